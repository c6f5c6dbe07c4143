// Row-wise normalizations over the last axis (rows of length d): softmax and layer norm, forward and backward
// (Backend.softmax / softmaxBackward / layerNorm / layerNormBackward; CPU reference src/engine/reference/tokens.ts).
// One invocation per row (rows are short: a token's features, an attention row), except the layer norm's parameter
// gradients: one invocation per feature, summing over the rows. struct Params { rows: u32, d: u32, eps: f32 } is
// prepended by src/engine/webgpu/ops/tokens.ts.

@group(0) @binding(0) var<uniform> p: Params;
@group(0) @binding(1) var<storage, read> a: array<f32>;
@group(0) @binding(2) var<storage, read> b: array<f32>;
@group(0) @binding(3) var<storage, read> c: array<f32>;
@group(0) @binding(4) var<storage, read> e: array<f32>;
// softmax: a -> out2; softmax_backward: a (dy), b (y) -> out3
@group(0) @binding(2) var<storage, read_write> out2: array<f32>;
@group(0) @binding(3) var<storage, read_write> out3: array<f32>;
// layernorm: a (x), b (gamma), c (beta) -> y4, stats5
@group(0) @binding(4) var<storage, read_write> y4: array<f32>;
@group(0) @binding(5) var<storage, read_write> stats5: array<f32>;
// layernorm_dx: a (dy), b (x), c (stats), e (gamma) -> dx5
@group(0) @binding(5) var<storage, read_write> dx5: array<f32>;
// layernorm_dparams: a (dy), b (x), c (stats) -> dg4, db5
@group(0) @binding(4) var<storage, read_write> dg4: array<f32>;
@group(0) @binding(5) var<storage, read_write> db5: array<f32>;

fn flat(gid: vec3u, groups: vec3u) -> u32 {
  return gid.x + gid.y * groups.x * 256u;
}

@compute @workgroup_size(256)
fn softmax(@builtin(global_invocation_id) gid: vec3u, @builtin(num_workgroups) groups: vec3u) {
  let r = flat(gid, groups);
  if (r >= p.rows) { return; }
  let o = r * p.d;
  var mx = a[o];
  for (var i = 1u; i < p.d; i++) { mx = max(mx, a[o + i]); }
  var s = 0.0;
  for (var i = 0u; i < p.d; i++) { let v = exp(a[o + i] - mx); out2[o + i] = v; s += v; }
  for (var i = 0u; i < p.d; i++) { out2[o + i] = out2[o + i] / s; }
}

@compute @workgroup_size(256)
fn softmax_backward(@builtin(global_invocation_id) gid: vec3u, @builtin(num_workgroups) groups: vec3u) {
  let r = flat(gid, groups);
  if (r >= p.rows) { return; }
  let o = r * p.d;
  var s = 0.0;
  for (var i = 0u; i < p.d; i++) { s += a[o + i] * b[o + i]; }
  for (var i = 0u; i < p.d; i++) { out3[o + i] = b[o + i] * (a[o + i] - s); }
}

@compute @workgroup_size(256)
fn layernorm(@builtin(global_invocation_id) gid: vec3u, @builtin(num_workgroups) groups: vec3u) {
  let r = flat(gid, groups);
  if (r >= p.rows) { return; }
  let o = r * p.d;
  let fd = f32(p.d);
  var m = 0.0;
  for (var i = 0u; i < p.d; i++) { m += a[o + i]; }
  m = m / fd;
  var v = 0.0;
  for (var i = 0u; i < p.d; i++) { let t = a[o + i] - m; v += t * t; }
  let rstd = 1.0 / sqrt(v / fd + p.eps);
  for (var i = 0u; i < p.d; i++) { y4[o + i] = (a[o + i] - m) * rstd * b[i] + c[i]; }
  stats5[2u * r] = m;
  stats5[2u * r + 1u] = rstd;
}

@compute @workgroup_size(256)
fn layernorm_dx(@builtin(global_invocation_id) gid: vec3u, @builtin(num_workgroups) groups: vec3u) {
  let r = flat(gid, groups);
  if (r >= p.rows) { return; }
  let o = r * p.d;
  let m = c[2u * r];
  let rstd = c[2u * r + 1u];
  var sg = 0.0;
  var sgx = 0.0;
  for (var i = 0u; i < p.d; i++) {
    let g = a[o + i] * e[i];
    sg += g;
    sgx += g * (b[o + i] - m) * rstd;
  }
  sg = sg / f32(p.d);
  sgx = sgx / f32(p.d);
  for (var i = 0u; i < p.d; i++) { dx5[o + i] = rstd * (a[o + i] * e[i] - sg - (b[o + i] - m) * rstd * sgx); }
}

@compute @workgroup_size(256)
fn layernorm_dparams(@builtin(global_invocation_id) gid: vec3u, @builtin(num_workgroups) groups: vec3u) {
  let i = flat(gid, groups);
  if (i >= p.d) { return; }
  var sg = 0.0;
  var sb = 0.0;
  for (var r = 0u; r < p.rows; r++) {
    let dy = a[r * p.d + i];
    sg += dy * (b[r * p.d + i] - c[2u * r]) * c[2u * r + 1u];
    sb += dy;
  }
  dg4[i] = sg;
  db5[i] = sb;
}
