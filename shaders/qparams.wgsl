// QAT range tracking and symmetric qparams, one invocation per channel, without a host round trip:
//   running min/max <- batch min/max (first step) or min + c * (batch - min) (moving average, c = 0: frozen)
//   scale = max(max(-min(rmin, 0), max(rmax, 0)) / ((qmax - qmin) / 2), eps)   (zero point 0, Horizon)
//   bernoulli: scale = 2^-clamp(floor(-log2(scale)), 1, 14), computed from the float's bits (exact)
// qparams holds [scale, 1/scale, zero_point] per channel (the layout shaders/fake_quant.wgsl reads).
struct Params {
  channels: u32,
  first: u32,
  pow2: u32,
  frozen: u32,
  c: f32,
  half_range: f32,
  eps: f32,
  pad: u32,
}

@group(0) @binding(0) var<uniform> p: Params;
@group(0) @binding(1) var<storage, read> bmin: array<f32>;
@group(0) @binding(2) var<storage, read> bmax: array<f32>;
@group(0) @binding(3) var<storage, read_write> running: array<f32>;
@group(0) @binding(4) var<storage, read_write> qp: array<f32>;

// floor(-log2(s)) for a positive normal float: exponent e and mantissa m give -e when m == 0, else -e - 1.
fn floor_neg_log2(s: f32) -> i32 {
  let bits = bitcast<u32>(s);
  let e = i32((bits >> 23u) & 0xffu) - 127;
  let m = bits & 0x7fffffu;
  return select(-e - 1, -e, m == 0u);
}

@compute @workgroup_size(64)
fn update(@builtin(global_invocation_id) gid: vec3u) {
  let ch = gid.x;
  if (ch >= p.channels) { return; }
  var rmin = running[ch];
  var rmax = running[p.channels + ch];
  if (p.first == 1u) {
    rmin = bmin[ch];
    rmax = bmax[ch];
  } else if (p.frozen == 0u) {
    rmin = rmin + p.c * (bmin[ch] - rmin);
    rmax = rmax + p.c * (bmax[ch] - rmax);
  }
  running[ch] = rmin;
  running[p.channels + ch] = rmax;
  let amax = max(-min(rmin, 0.0), max(rmax, 0.0));
  var scale = max(amax / p.half_range, p.eps);
  if (p.pow2 == 1u) {
    let k = clamp(floor_neg_log2(scale), 1, 14);
    scale = exp2(f32(-k));
  }
  qp[3u * ch] = scale;
  qp[3u * ch + 1u] = 1.0 / scale;
  qp[3u * ch + 2u] = 0.0;
}

// The qparams of a conv / linear bias on its int32 grid (src/qmath/bias.ts), from the input's per-tensor qparams
// xq [1, 3] and the weight's per-channel qparams wq [C, 3]: scale = x_scale * w_scale[c], [scale, 1/scale, 0].
// Only `channels` of Params is read.
@group(0) @binding(1) var<storage, read> bxq: array<f32>;
@group(0) @binding(2) var<storage, read> bwq: array<f32>;
@group(0) @binding(3) var<storage, read_write> bqp: array<f32>;

@compute @workgroup_size(64)
fn bias(@builtin(global_invocation_id) gid: vec3u) {
  let ch = gid.x;
  if (ch >= p.channels) { return; }
  let scale = bxq[0] * bwq[3u * ch];
  bqp[3u * ch] = scale;
  bqp[3u * ch + 1u] = 1.0 / scale;
  bqp[3u * ch + 2u] = 0.0;
}
