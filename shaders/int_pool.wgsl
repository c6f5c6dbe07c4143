// Integer pooling of the fixed-point simulator over NCHW planes (src/sim/int/pool.ts), bit-identical;
// int_requant.wgsl is prepended. One invocation per output; flat index over a 2-D grid of 256-lane workgroups.
//  - max_pool: max over the window, padded positions ignored (the host rejects windows entirely in padding).
//  - avg_pool: sum = Σ (x - x_zp) over the window (int32, wrapping; padding contributes 0), then the per-tensor
//    requantization in chan[1] (multiplier bits) and chan[2] (shift); mode 0 returns the sums.
struct Params {
  total: u32,
  h: i32, w: i32,
  oh: i32, ow: i32,
  kh: i32, kw: i32,
  sh: i32, sw: i32,
  ph: i32, pw: i32,
  xzp: i32,
  mode: u32,
  ozp: i32, lo: i32, hi: i32,
}

@group(0) @binding(0) var<uniform> p: Params;
@group(0) @binding(1) var<storage, read> x: array<i32>;
@group(0) @binding(2) var<storage, read_write> y2: array<i32>;  // max_pool
@group(0) @binding(2) var<storage, read> chan: array<i32>;      // avg_pool
@group(0) @binding(3) var<storage, read_write> y3: array<i32>;  // avg_pool

fn flat(gid: vec3u, groups: vec3u) -> u32 {
  return gid.x + gid.y * groups.x * 256u;
}

@compute @workgroup_size(256)
fn max_pool(@builtin(global_invocation_id) gid: vec3u, @builtin(num_workgroups) groups: vec3u) {
  let idx = flat(gid, groups);
  if (idx >= p.total) { return; }
  let i = i32(idx);
  let ox = i % p.ow;
  let t = i / p.ow;
  let oy = t % p.oh;
  let pl = t / p.oh;
  let base = pl * p.h * p.w;
  let y0 = max(oy * p.sh - p.ph, 0);
  let y1 = min(oy * p.sh - p.ph + p.kh, p.h);
  let x0 = max(ox * p.sw - p.pw, 0);
  let x1 = min(ox * p.sw - p.pw + p.kw, p.w);
  var m = x[base + y0 * p.w + x0];
  for (var iy = y0; iy < y1; iy++) {
    for (var ix = x0; ix < x1; ix++) { m = max(m, x[base + iy * p.w + ix]); }
  }
  y2[idx] = m;
}

@compute @workgroup_size(256)
fn avg_pool(@builtin(global_invocation_id) gid: vec3u, @builtin(num_workgroups) groups: vec3u) {
  let idx = flat(gid, groups);
  if (idx >= p.total) { return; }
  let i = i32(idx);
  let ox = i % p.ow;
  let t = i / p.ow;
  let oy = t % p.oh;
  let pl = t / p.oh;
  let base = pl * p.h * p.w;
  let y0 = max(oy * p.sh - p.ph, 0);
  let y1 = min(oy * p.sh - p.ph + p.kh, p.h);
  let x0 = max(ox * p.sw - p.pw, 0);
  let x1 = min(ox * p.sw - p.pw + p.kw, p.w);
  var s = 0i;
  for (var iy = y0; iy < y1; iy++) {
    for (var ix = x0; ix < x1; ix++) { s += x[base + iy * p.w + ix] - p.xzp; }
  }
  y3[idx] = requant_mode(s, p.mode, chan[1], chan[2], p.ozp, p.lo, p.hi);
}
