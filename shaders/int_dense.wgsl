// Integer conv2d and linear of the fixed-point simulator (src/sim/int/conv2d.ts, linear.ts), bit-identical:
// int32 accumulation of (x - x_zp) * w plus the int32 bias, wrapping like int32 hardware (WGSL i32 arithmetic
// wraps, and modular addition does not depend on the summation order), then per-output-channel requantization
// (int_requant.wgsl, prepended). Activations and weights are widened to i32 on upload.
// One invocation per output element; flat index over a 2-D grid of 256-lane workgroups.
//
// chan[3 * o + 0] = bias[o], chan[3 * o + 1] = multiplier bits (u32 or f32), chan[3 * o + 2] = shift.
struct Params {
  total: u32,
  c: i32, h: i32, w: i32,         // input planes (linear: c = K, h = w = 1)
  o: i32, oh: i32, ow: i32,       // output
  ci: i32, opg: i32,              // input channels per group, output channels per group
  kh: i32, kw: i32,
  sh: i32, sw: i32,
  ph: i32, pw: i32,
  dh: i32, dw: i32,
  xzp: i32,
  mode: u32,                      // 0 accumulator, 1 horizon, 2 pytorch
  ozp: i32, lo: i32, hi: i32,     // output zero point and saturation bounds
}

@group(0) @binding(0) var<uniform> p: Params;
@group(0) @binding(1) var<storage, read> x: array<i32>;
@group(0) @binding(2) var<storage, read> wt: array<i32>;
@group(0) @binding(3) var<storage, read> chan: array<i32>;
@group(0) @binding(4) var<storage, read_write> y: array<i32>;
// conv2d_oc4: weights interleaved by 4 output channels, w4[((o / 4) * ci + c) * kh * kw + k] = w[o .. o + 3][c][k]
@group(0) @binding(2) var<storage, read> wt4: array<vec4<i32>>;

fn flat(gid: vec3u, groups: vec3u) -> u32 {
  return gid.x + gid.y * groups.x * 256u;
}

fn finish(idx: u32, o: i32, s: i32) {
  let acc = s + chan[3 * o];
  y[idx] = requant_mode(acc, p.mode, chan[3 * o + 1], chan[3 * o + 2], p.ozp, p.lo, p.hi);
}

@compute @workgroup_size(256)
fn conv2d(@builtin(global_invocation_id) gid: vec3u, @builtin(num_workgroups) groups: vec3u) {
  let idx = flat(gid, groups);
  if (idx >= p.total) { return; }
  let i = i32(idx);
  let ox = i % p.ow;
  let t = i / p.ow;
  let oy = t % p.oh;
  let t2 = t / p.oh;
  let o = t2 % p.o;
  let n = t2 / p.o;
  let g = o / p.opg;
  let hw = p.h * p.w;
  let iy0 = oy * p.sh - p.ph;
  let ix0 = ox * p.sw - p.pw;
  var s = 0i;
  for (var ci = 0; ci < p.ci; ci++) {
    let xplane = (n * p.c + g * p.ci + ci) * hw;
    let wplane = (o * p.ci + ci) * p.kh * p.kw;
    for (var ky = 0; ky < p.kh; ky++) {
      let iy = iy0 + ky * p.dh;
      if (iy < 0 || iy >= p.h) { continue; } // padding: (x_zp - x_zp) * w = 0
      let xrow = xplane + iy * p.w;
      let wrow = wplane + ky * p.kw;
      for (var kx = 0; kx < p.kw; kx++) {
        let ix = ix0 + kx * p.dw;
        if (ix < 0 || ix >= p.w) { continue; }
        s += (x[xrow + ix] - p.xzp) * wt[wrow + kx];
      }
    }
  }
  finish(idx, o, s);
}

// x [N, K], w [O, K]: y[n, o]; p.c = K, p.o = O.
@compute @workgroup_size(256)
fn linear(@builtin(global_invocation_id) gid: vec3u, @builtin(num_workgroups) groups: vec3u) {
  let idx = flat(gid, groups);
  if (idx >= p.total) { return; }
  let i = i32(idx);
  let o = i % p.o;
  let n = i / p.o;
  let xb = n * p.c;
  let wb = o * p.c;
  var s = 0i;
  for (var k = 0; k < p.c; k++) {
    s += (x[xb + k] - p.xzp) * wt[wb + k];
  }
  finish(idx, o, s);
}

// Four consecutive output channels of one group per invocation (needs O / groups % 4 == 0): each input value is
// loaded once for the four, the weights come interleaved (wt4). Same integers as `conv2d`.
@compute @workgroup_size(256)
fn conv2d_oc4(@builtin(global_invocation_id) gid: vec3u, @builtin(num_workgroups) groups: vec3u) {
  let idx = flat(gid, groups);
  if (idx >= p.total) { return; } // total = N * (O / 4) * OH * OW
  let i = i32(idx);
  let ox = i % p.ow;
  let t = i / p.ow;
  let oy = t % p.oh;
  let t2 = t / p.oh;
  let ob = t2 % (p.o / 4);
  let n = t2 / (p.o / 4);
  let o = ob * 4;
  let g = o / p.opg;
  let hw = p.h * p.w;
  let kk = p.kh * p.kw;
  let iy0 = oy * p.sh - p.ph;
  let ix0 = ox * p.sw - p.pw;
  var s = vec4<i32>(0);
  for (var ci = 0; ci < p.ci; ci++) {
    let xplane = (n * p.c + g * p.ci + ci) * hw;
    let wplane = (ob * p.ci + ci) * kk;
    for (var ky = 0; ky < p.kh; ky++) {
      let iy = iy0 + ky * p.dh;
      if (iy < 0 || iy >= p.h) { continue; }
      let xrow = xplane + iy * p.w;
      let wrow = wplane + ky * p.kw;
      for (var kx = 0; kx < p.kw; kx++) {
        let ix = ix0 + kx * p.dw;
        if (ix < 0 || ix >= p.w) { continue; }
        s += (x[xrow + ix] - p.xzp) * wt4[wrow + kx];
      }
    }
  }
  let plane = p.oh * p.ow;
  let base = u32((n * p.o + o) * plane + oy * p.ow + ox);
  finish(base, o, s.x);
  finish(base + u32(plane), o + 1, s.y);
  finish(base + u32(2 * plane), o + 2, s.z);
  finish(base + u32(3 * plane), o + 3, s.w);
}
