// Integer pooling of the fixed-point simulator over NCHW planes (src/sim/int/pool.ts), bit-identical;
// int_requant.wgsl is prepended. One invocation per output; flat index over a 2-D grid of 256-lane workgroups.
//  - max_pool: max over the window, padded positions ignored (the host rejects windows entirely in padding).
//  - avg_pool: sum = Σ (x - x_zp) over the window (int32, wrapping; padding contributes 0), then the per-tensor
//    requantization in chan[1] (multiplier bits) and chan[2] (shift); mode 0 returns the sums.
// The uniform struct Params (geometry, xzp, the requant mode / ozp / lo / hi, and cnt) is declared in
// src/sim/gpu/kernels.ts (uniforms(): one declaration for the WGSL struct and the TypeScript packer), prepended.
//  - cnt (avg_pool): 0 = one divisor (chan[1], chan[2]); 1 / 2 = a divisor per window (ceil_mode,
//    count_include_pad = false), counted with (1) or without (2) the padding: chan[3 (count - 1) + 1 / 2].

@group(0) @binding(0) var<uniform> p: Params;
@group(0) @binding(1) var<storage, read> x: array<i32>;
@group(0) @binding(2) var<storage, read_write> y2: array<i32>;  // max_pool
@group(0) @binding(2) var<storage, read> chan: array<i32>;      // avg_pool
@group(0) @binding(3) var<storage, read_write> y3: array<i32>;  // avg_pool

fn flat(gid: vec3u, groups: vec3u) -> u32 {
  return gid.x + gid.y * groups.x * 256u;
}

// Positions of output o's window counted in the average along one axis (src/qmath/pool-window.ts).
fn axis_count(o: i32, size: i32, k: i32, s: i32, pad: i32) -> i32 {
  let start = o * s - pad;
  let end = min(start + k, size + pad);
  if (p.cnt == 1u) { return end - start; }
  return min(end, size) - max(start, 0);
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
  var c = 0;
  if (p.cnt != 0u) { c = axis_count(oy, p.h, p.kh, p.sh, p.ph) * axis_count(ox, p.w, p.kw, p.sw, p.pw) - 1; }
  y3[idx] = requant_mode(s, p.mode, chan[3 * c + 1], chan[3 * c + 2], p.ozp, p.lo, p.hi);
}
