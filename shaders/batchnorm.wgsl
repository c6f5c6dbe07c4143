// Batch normalization over NCHW (or [N, C] with H = W = 1), per channel c; M = N * H * W.
//
// Reductions (bn_stats, bn_backward_reduce) run one workgroup of 256 lanes per channel: each lane
// accumulates a strided part of the channel, then a shared-memory tree reduction combines the lanes.
// The channel index spans a 2-D grid of workgroups (C may exceed 65535). Elementwise entries use a
// flat index over a 2-D grid of 256-lane workgroups, like elementwise.wgsl.
//
// Each entry point has its own binding interface (binding 0 is always the Params uniform).
struct Params {
  n: u32,        // elements of x (N * C * HW), or of the running buffer for bn_ema
  c: u32,        // channels
  hw: u32,       // H * W
  m: u32,        // N * HW, elements per channel
  eps: f32,
  momentum: f32, // bn_ema
  scale: f32,    // bn_ema: batchScale
  training: u32, // bn_backward_dx: 1 = batch statistics, 0 = constants
}

@group(0) @binding(0) var<uniform> p: Params;

const WG: u32 = 256u;
var<workgroup> red_a: array<f32, 256>;
var<workgroup> red_b: array<f32, 256>;

fn flat(gid: vec3u, groups: vec3u) -> u32 {
  return gid.x + gid.y * groups.x * WG;
}

// Flat index of the m-th element (m in [0, M)) of channel c.
fn channel_index(c: u32, m: u32) -> u32 {
  let n = m / p.hw;
  let i = m - n * p.hw;
  return (n * p.c + c) * p.hw + i;
}

// Tree reduction of red_a (and red_b) over the workgroup; the result is in slot 0 afterwards.
// Every lane of the workgroup must call these (uniform control flow).
fn reduce_a(lid: u32) {
  for (var s = WG / 2u; s > 0u; s = s >> 1u) {
    workgroupBarrier();
    if (lid < s) { red_a[lid] += red_a[lid + s]; }
  }
  workgroupBarrier();
}

fn reduce_ab(lid: u32) {
  for (var s = WG / 2u; s > 0u; s = s >> 1u) {
    workgroupBarrier();
    if (lid < s) {
      red_a[lid] += red_a[lid + s];
      red_b[lid] += red_b[lid + s];
    }
  }
  workgroupBarrier();
}

// ---- bn_stats: mean[c] and biased var[c], two passes (mean, then centered sum of squares) ----
@group(0) @binding(1) var<storage, read> st_x: array<f32>;
@group(0) @binding(2) var<storage, read_write> st_mean: array<f32>;
@group(0) @binding(3) var<storage, read_write> st_var: array<f32>;

@compute @workgroup_size(256)
fn bn_stats(@builtin(workgroup_id) wid: vec3u, @builtin(num_workgroups) groups: vec3u,
            @builtin(local_invocation_index) lid: u32) {
  // c is uniform over the workgroup, so the early return keeps barriers in uniform control flow.
  let c = wid.x + wid.y * groups.x;
  if (c >= p.c) { return; }
  var s = 0.0;
  for (var m = lid; m < p.m; m += WG) { s += st_x[channel_index(c, m)]; }
  red_a[lid] = s;
  reduce_a(lid);
  let mean = red_a[0] / f32(p.m);
  workgroupBarrier(); // everyone has read red_a[0] before it is overwritten
  var q = 0.0;
  for (var m = lid; m < p.m; m += WG) {
    let d = st_x[channel_index(c, m)] - mean;
    q += d * d;
  }
  red_a[lid] = q;
  reduce_a(lid);
  if (lid == 0u) {
    st_mean[c] = mean;
    st_var[c] = red_a[0] / f32(p.m);
  }
}

// ---- bn_forward: y = (x - mean) / sqrt(var + eps) * gamma + beta ----
@group(0) @binding(1) var<storage, read> fw_x: array<f32>;
@group(0) @binding(2) var<storage, read> fw_mean: array<f32>;
@group(0) @binding(3) var<storage, read> fw_var: array<f32>;
@group(0) @binding(4) var<storage, read> fw_gamma: array<f32>;
@group(0) @binding(5) var<storage, read> fw_beta: array<f32>;
@group(0) @binding(6) var<storage, read_write> fw_y: array<f32>;

@compute @workgroup_size(256)
fn bn_forward(@builtin(global_invocation_id) gid: vec3u, @builtin(num_workgroups) groups: vec3u) {
  let i = flat(gid, groups);
  if (i >= p.n) { return; }
  let c = (i / p.hw) % p.c;
  let inv_std = 1.0 / sqrt(fw_var[c] + p.eps);
  fw_y[i] = (fw_x[i] - fw_mean[c]) * inv_std * fw_gamma[c] + fw_beta[c];
}

// ---- bn_backward_reduce: dbeta[c] = sum dy, dgamma[c] = sum dy * xhat ----
@group(0) @binding(1) var<storage, read> br_dy: array<f32>;
@group(0) @binding(2) var<storage, read> br_x: array<f32>;
@group(0) @binding(3) var<storage, read> br_mean: array<f32>;
@group(0) @binding(4) var<storage, read> br_var: array<f32>;
@group(0) @binding(5) var<storage, read_write> br_dgamma: array<f32>;
@group(0) @binding(6) var<storage, read_write> br_dbeta: array<f32>;

@compute @workgroup_size(256)
fn bn_backward_reduce(@builtin(workgroup_id) wid: vec3u, @builtin(num_workgroups) groups: vec3u,
                      @builtin(local_invocation_index) lid: u32) {
  let c = wid.x + wid.y * groups.x;
  if (c >= p.c) { return; }
  let mean = br_mean[c];
  let inv_std = 1.0 / sqrt(br_var[c] + p.eps);
  var sdy = 0.0;
  var sdyx = 0.0;
  for (var m = lid; m < p.m; m += WG) {
    let k = channel_index(c, m);
    let d = br_dy[k];
    sdy += d;
    sdyx += d * ((br_x[k] - mean) * inv_std);
  }
  red_a[lid] = sdy;
  red_b[lid] = sdyx;
  reduce_ab(lid);
  if (lid == 0u) {
    br_dbeta[c] = red_a[0];
    br_dgamma[c] = red_b[0];
  }
}

// ---- bn_backward_dx ----
// training: dx = gamma * inv_std * (dy - dbeta / M - xhat * dgamma / M)
// eval:     dx = gamma * inv_std * dy
@group(0) @binding(1) var<storage, read> bd_dy: array<f32>;
@group(0) @binding(2) var<storage, read> bd_x: array<f32>;
@group(0) @binding(3) var<storage, read> bd_mean: array<f32>;
@group(0) @binding(4) var<storage, read> bd_var: array<f32>;
@group(0) @binding(5) var<storage, read> bd_gamma: array<f32>;
@group(0) @binding(6) var<storage, read> bd_dgamma: array<f32>;
@group(0) @binding(7) var<storage, read> bd_dbeta: array<f32>;
@group(0) @binding(8) var<storage, read_write> bd_dx: array<f32>;

@compute @workgroup_size(256)
fn bn_backward_dx(@builtin(global_invocation_id) gid: vec3u, @builtin(num_workgroups) groups: vec3u) {
  let i = flat(gid, groups);
  if (i >= p.n) { return; }
  let c = (i / p.hw) % p.c;
  let inv_std = 1.0 / sqrt(bd_var[c] + p.eps);
  let k = bd_gamma[c] * inv_std;
  let dy = bd_dy[i];
  if (p.training != 0u) {
    let inv_m = 1.0 / f32(p.m);
    let xhat = (bd_x[i] - bd_mean[c]) * inv_std;
    bd_dx[i] = k * (dy - bd_dbeta[c] * inv_m - xhat * (bd_dgamma[c] * inv_m));
  } else {
    bd_dx[i] = k * dy;
  }
}

// ---- bn_ema: running = (1 - momentum) * running + momentum * (batch * scale), in place ----
@group(0) @binding(1) var<storage, read> ema_batch: array<f32>;
@group(0) @binding(2) var<storage, read_write> ema_running: array<f32>;

@compute @workgroup_size(256)
fn bn_ema(@builtin(global_invocation_id) gid: vec3u, @builtin(num_workgroups) groups: vec3u) {
  let i = flat(gid, groups);
  if (i >= p.n) { return; }
  ema_running[i] = (1.0 - p.momentum) * ema_running[i] + p.momentum * (ema_batch[i] * p.scale);
}
