// Fake quantization (per tensor = one channel), its straight-through backward and the LSQ scale gradient.
//
// Bit-exact with src/quant/fake-quantize-ref.ts (PyTorch 1.13 CPU kernels):
//   t    = f32(x * inv)                 inv = f32(1 / f32(scale)), computed on the host (WGSL `/` is not
//                                       guaranteed correctly rounded), stored next to the scale
//   s    = f32(zp + round(t))           round: half to even (WGSL round() is specified half-even), or
//                                       bpu_round = floor(f32(t + 0.5))
//   qval = s, or qmin when |s| >= 2^63 / inf / NaN (the CPU kernel's int64 conversion gives INT64_MIN)
//   out  = f32((clamp(qval, qmin, qmax) - zp) * scale)
//   mask = qmin <= qval <= qmax,  grad_x = grad_out * mask
// The int32 range of a bias (src/qmath/bias.ts) is the one range that float32 does not hold exactly: qmax =
// 2^31 - 1 is 2^31 as a float, which the clamp may use (f32(2^31 * scale) = f32((2^31 - 1) * scale) for every
// float scale), but the mask must not: it compares with mask_min / mask_max, the floats inside [qmin, qmax]
// nearest to them (2^31 - 128 for 2^31 - 1; equal to qmin / qmax for every range within 2^24).
// Every float operation used is one correctly rounded WGSL f32 op (`*`, `+`, `-`, round, floor, clamp);
// subnormals are exact only where the adapter keeps them (see probeNumerics in ops/fake-quant.ts).
//
// qp: per channel [scale, inv, zero_point] as f32 (zero points are integers, exact in f32).
// Channel of flat index i: (i / inner) % channels (per tensor: channels = 1).
struct Params {
  n: u32,
  channels: u32,
  inner: u32,
  rounding: u32,    // 0: half_even, 1: bpu_round
  qmin: f32,
  qmax: f32,
  barrier: u32,     // always 0; XORed into t so that no compiler fuses x * inv + 0.5 into an fma
  grad_factor: f32, // LSQ: multiplies the scale gradient
  slices: u32,      // LSQ reduction: workgroups of the first pass
  mask_min: f32,    // the smallest float >= quant_min (see above)
  mask_max: f32,    // the largest float <= quant_max
  _pad2: u32,
}

@group(0) @binding(0) var<uniform> p: Params;

fn flat(gid: vec3u, groups: vec3u) -> u32 {
  return gid.x + gid.y * groups.x * 256u;
}

fn channel_of(i: u32) -> u32 {
  if (p.channels == 1u) { return 0u; }
  return (i / p.inner) % p.channels;
}

struct Q {
  s: f32,        // zp + round(x * inv), unclamped
  q: f32,        // clamped (qmin where s is outside int64 / inf / NaN)
  inside: bool,  // STE mask
  t: f32,        // x * inv
}

fn quantize(x: f32, inv: f32, zp: f32) -> Q {
  var t = x * inv;
  var r: f32;
  if (p.rounding == 0u) {
    r = round(t);
  } else {
    t = bitcast<f32>(bitcast<u32>(t) ^ p.barrier);
    r = floor(t + 0.5);
  }
  let s = zp + r;
  // |s| < 2^63 and finite  <=>  biased exponent < 127 + 63
  let ok = (bitcast<u32>(s) & 0x7f800000u) < (190u << 23u);
  var res: Q;
  res.s = s;
  res.t = t;
  res.q = select(p.qmin, clamp(s, p.qmin, p.qmax), ok);
  res.inside = ok && s >= p.mask_min && s <= p.mask_max;
  return res;
}

// ---- forward: inputs x, qp; outputs out (and mask) ----
@group(0) @binding(1) var<storage, read> fx: array<f32>;
@group(0) @binding(2) var<storage, read> fqp: array<f32>;
@group(0) @binding(3) var<storage, read_write> fout: array<f32>;
@group(0) @binding(4) var<storage, read_write> fmask: array<f32>;

@compute @workgroup_size(256)
fn forward(@builtin(global_invocation_id) gid: vec3u, @builtin(num_workgroups) groups: vec3u) {
  let i = flat(gid, groups);
  if (i >= p.n) { return; }
  let c = channel_of(i);
  let scale = fqp[3u * c];
  let zp = fqp[3u * c + 2u];
  let r = quantize(fx[i], fqp[3u * c + 1u], zp);
  fout[i] = (r.q - zp) * scale;
}

@compute @workgroup_size(256)
fn forward_mask(@builtin(global_invocation_id) gid: vec3u, @builtin(num_workgroups) groups: vec3u) {
  let i = flat(gid, groups);
  if (i >= p.n) { return; }
  let c = channel_of(i);
  let scale = fqp[3u * c];
  let zp = fqp[3u * c + 2u];
  let r = quantize(fx[i], fqp[3u * c + 1u], zp);
  fout[i] = (r.q - zp) * scale;
  fmask[i] = select(0.0, 1.0, r.inside);
}

// ---- STE backward: inputs x, qp, grad_out; output grad_x (the mask is recomputed from x) ----
@group(0) @binding(1) var<storage, read> bx: array<f32>;
@group(0) @binding(2) var<storage, read> bqp: array<f32>;
@group(0) @binding(3) var<storage, read> bg: array<f32>;
@group(0) @binding(4) var<storage, read_write> bgx: array<f32>;

@compute @workgroup_size(256)
fn backward(@builtin(global_invocation_id) gid: vec3u, @builtin(num_workgroups) groups: vec3u) {
  let i = flat(gid, groups);
  if (i >= p.n) { return; }
  let c = channel_of(i);
  let r = quantize(bx[i], bqp[3u * c + 1u], bqp[3u * c + 2u]);
  // a multiplication (not a select) so that masked elements are +-0 and inf * 0 = NaN, like `dY * mask`
  bgx[i] = bg[i] * select(0.0, 1.0, r.inside);
}

// ---- LSQ scale gradient (per tensor), Esser et al. 2019 ----
// d out / d scale = round(t) - t inside the range, qmin - zp below, qmax - zp above (t = x * inv;
// (s - zp) - t with s = zp + round(t) is round(t) - t exactly since zp is a small integer);
// grad_scale = grad_factor * sum(grad_out * d). Pass 1: `slices` workgroups write partial sums;
// pass 2 (lsq_reduce): one workgroup adds them in a fixed order.
var<workgroup> red: array<f32, 256>;

fn tree_sum(lid: u32) {
  for (var s = 128u; s > 0u; s = s >> 1u) {
    if (lid < s) { red[lid] = red[lid] + red[lid + s]; }
    workgroupBarrier();
  }
}

@compute @workgroup_size(256)
fn lsq_partial(@builtin(local_invocation_id) lid3: vec3u, @builtin(workgroup_id) wid: vec3u) {
  let lid = lid3.x;
  let scale = bqp[0];
  let inv = bqp[1];
  let zp = bqp[2];
  var acc = 0.0;
  for (var i = wid.x * 256u + lid; i < p.n; i = i + p.slices * 256u) {
    let r = quantize(bx[i], inv, zp);
    // outside: the clamped value (qmin or qmax; qmin for non-finite s, as in the forward) minus zp
    let d = select(r.q - zp, (r.s - zp) - r.t, r.inside);
    acc = acc + bg[i] * d;
  }
  red[lid] = acc;
  workgroupBarrier();
  tree_sum(lid);
  if (lid == 0u) { bgx[wid.x] = red[0]; }
}

@group(0) @binding(1) var<storage, read> lpart: array<f32>;
@group(0) @binding(2) var<storage, read_write> lout: array<f32>;

@compute @workgroup_size(256)
fn lsq_reduce(@builtin(local_invocation_id) lid3: vec3u) {
  let lid = lid3.x;
  var acc = 0.0;
  for (var i = lid; i < p.slices; i = i + 256u) { acc = acc + lpart[i]; }
  red[lid] = acc;
  workgroupBarrier();
  tree_sum(lid);
  if (lid == 0u) { lout[0] = red[0] * p.grad_factor; }
}
