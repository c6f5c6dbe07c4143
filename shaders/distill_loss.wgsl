// Distillation losses (oracle: src/engine/reference/distill-loss.ts).
// sq_diff: a grid-stride pass over all elements writing diff = a - b and one partial sum of squares per
//   workgroup (at most 256 workgroups, so a single workgroup can finish the sum);
// kl_rows: one invocation per row of logits, writing delta = softmax(s) - softmax(t) and the row's
//   KL(pt || ps) computed from the logits (no log of a tiny probability);
// sum_scaled: one 256-lane workgroup, out[0] = sum(values) * scale (the mean of either);
// scale_by: y = x * s[0] * scale (the backward: a saved gradient times the incoming scalar gradient).
struct Params {
  total: u32, // elements (sq_diff, scale_by), rows (kl_rows) or values to sum (sum_scaled)
  groups: u32, // sq_diff: workgroups dispatched
  k: u32, // kl_rows: classes per row
  scale: f32,
}

@group(0) @binding(0) var<uniform> p: Params;

var<workgroup> red: array<f32, 256>;

fn reduce_to_lane0(lid: u32) {
  for (var h = 128u; h > 0u; h = h >> 1u) {
    workgroupBarrier();
    if (lid < h) { red[lid] += red[lid + h]; }
  }
}

// ---- sq_diff ----
@group(0) @binding(1) var<storage, read> sd_a: array<f32>;
@group(0) @binding(2) var<storage, read> sd_b: array<f32>;
@group(0) @binding(3) var<storage, read_write> sd_diff: array<f32>;
@group(0) @binding(4) var<storage, read_write> sd_partial: array<f32>;

@compute @workgroup_size(256)
fn sq_diff(@builtin(local_invocation_index) lid: u32, @builtin(workgroup_id) wid: vec3u) {
  var s = 0.0;
  for (var i = wid.x * 256u + lid; i < p.total; i += p.groups * 256u) {
    let d = sd_a[i] - sd_b[i];
    sd_diff[i] = d;
    s += d * d;
  }
  red[lid] = s;
  reduce_to_lane0(lid);
  if (lid == 0u) { sd_partial[wid.x] = red[0]; }
}

// ---- kl_rows ----
@group(0) @binding(1) var<storage, read> kl_s: array<f32>;
@group(0) @binding(2) var<storage, read> kl_t: array<f32>;
@group(0) @binding(3) var<storage, read_write> kl_delta: array<f32>;
@group(0) @binding(4) var<storage, read_write> kl_loss: array<f32>;

fn row_lse(row: u32, teacher: bool) -> f32 {
  var mx = -3.4e38;
  for (var j = 0u; j < p.k; j++) { mx = max(mx, select(kl_s[row + j], kl_t[row + j], teacher)); }
  var s = 0.0;
  for (var j = 0u; j < p.k; j++) { s += exp(select(kl_s[row + j], kl_t[row + j], teacher) - mx); }
  return mx + log(s);
}

@compute @workgroup_size(256)
fn kl_rows(@builtin(global_invocation_id) gid: vec3u, @builtin(num_workgroups) groups: vec3u) {
  let n = gid.x + gid.y * groups.x * 256u;
  if (n >= p.total) { return; }
  let row = n * p.k;
  let lse_s = row_lse(row, false);
  let lse_t = row_lse(row, true);
  var l = 0.0;
  for (var j = 0u; j < p.k; j++) {
    let log_t = kl_t[row + j] - lse_t;
    let log_s = kl_s[row + j] - lse_s;
    let pt = exp(log_t);
    l += pt * (log_t - log_s);
    kl_delta[row + j] = exp(log_s) - pt;
  }
  kl_loss[n] = l;
}

// ---- sum_scaled: dispatched as exactly one workgroup ----
@group(0) @binding(1) var<storage, read> ss_values: array<f32>;
@group(0) @binding(2) var<storage, read_write> ss_out: array<f32>;

@compute @workgroup_size(256)
fn sum_scaled(@builtin(local_invocation_index) lid: u32) {
  var s = 0.0;
  for (var i = lid; i < p.total; i += 256u) { s += ss_values[i]; }
  red[lid] = s;
  reduce_to_lane0(lid);
  if (lid == 0u) { ss_out[0] = red[0] * p.scale; }
}

// ---- scale_by ----
@group(0) @binding(1) var<storage, read> sb_x: array<f32>;
@group(0) @binding(2) var<storage, read> sb_s: array<f32>;
@group(0) @binding(3) var<storage, read_write> sb_y: array<f32>;

@compute @workgroup_size(256)
fn scale_by(@builtin(global_invocation_id) gid: vec3u, @builtin(num_workgroups) groups: vec3u) {
  let i = gid.x + gid.y * groups.x * 256u;
  if (i >= p.total) { return; }
  sb_y[i] = sb_x[i] * sb_s[0] * p.scale;
}
