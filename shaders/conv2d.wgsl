// 2-D convolution (cross-correlation, like PyTorch), forward and backward, direct (no im2col).
// Activations NCHW, weights OIHW with I = Cg = C / G. Every shape, stride, padding, dilation and
// group count arrives in the uniform `p`, so one pipeline per entry point serves every layer.
//
// Work split (one invocation = a register tile; loads are reused across the tile). The host picks
// 8, 4 or 1 channels per invocation, whichever keeps at least 3/4 of the lanes busy:
//   forward_8        8 output channels (same group) x 4 output columns of one row, interleaved
//                    (ow = xb + j * XB, so neighbouring invocations touch neighbouring columns):
//                    12 loads per 32 multiply-adds
//   forward          4 output channels x 4 consecutive output columns of one row
//   forward_1        1 output channel x 4 output columns (Og < 4 layers; depthwise layers with
//                    column stride 1 or 2, KW <= 4 and no column dilation run the sliding-window
//                    kernels of conv2d_depthwise.wgsl instead, the rest come here)
//   backward_input_8 / backward_input
//                    8 / 4 input channels (same group) x 4 input columns of one row that share the
//                    same residue mod strideW, so every tap is valid or invalid for all of them and
//                    their dy values are 4 consecutive output columns
//   backward_input_1 1 input channel x 4 such columns (depthwise)
//   backward_weight_8 / backward_weight
//                    8 / 4 output channels x 4 input channels at one kernel tap, reducing over a
//                    chunk of the batch x the output rows/columns where that tap lands inside the
//                    image (range precomputed: no bounds checks in the hot loop); with more than one
//                    chunk each writes partial sums that `reduce_partials` adds up
//   backward_weight_1 1 weight element per invocation (depthwise: Cg = Og = 1)
//   channel_sum      one workgroup of 64 per channel, 2 barriers
// Invocations are numbered flat over a 2-D grid of 64-wide workgroups (gid.x + gid.y * nwg.x * 64).

struct Params {
  N: i32, C: i32, H: i32, W: i32,
  O: i32, OH: i32, OW: i32, KH: i32,
  KW: i32, sH: i32, sW: i32, pH: i32,
  pW: i32, dH: i32, dW: i32, G: i32,
  Cg: i32, Og: i32,
  // channel blocks per group (forward: of Og, backward_input: of Cg, backward_weight: of Og)
  CB: i32,
  // column blocks per row (forward*: ceil(OW/4); backward_input*: sW * ceil(ceil(W/sW)/4));
  // backward_weight: input-channel blocks per group
  XB: i32,
  // backward_input: ceil(ceil(W/sW)/4) (blocks per residue)
  QB: i32,
  // invocations that do work
  total: i32,
  // forward: 1 when a bias is bound; backward_weight: images per chunk
  extra: i32,
  // backward_weight / reduce_partials: number of chunks (partial sums)
  S: i32,
}

@group(0) @binding(0) var<uniform> p: Params;

// ---- bindings, per entry point (an entry point uses only its own) ----
// forward*: x, w, b, y
@group(0) @binding(1) var<storage, read> fx: array<f32>;
@group(0) @binding(2) var<storage, read> fw: array<f32>;
@group(0) @binding(3) var<storage, read> fb: array<f32>;
@group(0) @binding(4) var<storage, read_write> fy: array<f32>;
// backward_input*: dy, w -> dx;  backward_weight*: dy, x -> dw (or partials)
@group(0) @binding(1) var<storage, read> bdy: array<f32>;
@group(0) @binding(2) var<storage, read> bin: array<f32>;
@group(0) @binding(3) var<storage, read_write> bout: array<f32>;
// reduce_partials: partials -> dw;  channel_sum: x -> s
@group(0) @binding(1) var<storage, read> rin: array<f32>;
@group(0) @binding(2) var<storage, read_write> rout: array<f32>;

const WG: u32 = 64u;

fn flat(gid: vec3u, nwg: vec3u) -> i32 {
  return i32(gid.x + gid.y * nwg.x * WG);
}

// ------------------------------------------------------------------------------------------------
// forward: y[n, o, oh, ow] = b[o] + sum_{ci, kh, kw} x[n, g*Cg+ci, oh*sH-pH+kh*dH, ow*sW-pW+kw*dW]
//                                                      * w[o, ci, kh, kw]
// t = (((n * G + g) * CB + cb) * OH + oh) * XB + xb
@compute @workgroup_size(64)
fn forward(@builtin(global_invocation_id) gid: vec3u, @builtin(num_workgroups) nwg: vec3u) {
  var t = flat(gid, nwg);
  if (t >= p.total) { return; }
  let xb = t % p.XB; t = t / p.XB;
  let oh = t % p.OH; t = t / p.OH;
  let cb = t % p.CB; t = t / p.CB;
  let g = t % p.G;
  let n = t / p.G;

  let og0 = cb * 4;
  let o0 = g * p.Og + og0;
  let ow0 = xb * 4;
  let KK = p.KH * p.KW;
  let HW = p.H * p.W;
  // Weight rows of the 4 output channels (clamped into the group; extra lanes are not written).
  let wstride = p.Cg * KK;
  let wb0 = (g * p.Og + min(og0 + 0, p.Og - 1)) * wstride;
  let wb1 = (g * p.Og + min(og0 + 1, p.Og - 1)) * wstride;
  let wb2 = (g * p.Og + min(og0 + 2, p.Og - 1)) * wstride;
  let wb3 = (g * p.Og + min(og0 + 3, p.Og - 1)) * wstride;
  let xn = (n * p.C + g * p.Cg) * HW;
  let ih0 = oh * p.sH - p.pH;
  let iw0 = ow0 * p.sW - p.pW;

  var a0 = vec4f(0.0);
  var a1 = vec4f(0.0);
  var a2 = vec4f(0.0);
  var a3 = vec4f(0.0);
  for (var kh = 0; kh < p.KH; kh++) {
    let ih = ih0 + kh * p.dH;
    if (ih < 0 || ih >= p.H) { continue; }
    for (var kw = 0; kw < p.KW; kw++) {
      let iw = iw0 + kw * p.dW;
      let c0 = iw; let c1 = iw + p.sW; let c2 = iw + 2 * p.sW; let c3 = iw + 3 * p.sW;
      let m = vec4f(select(0.0, 1.0, c0 >= 0 && c0 < p.W), select(0.0, 1.0, c1 >= 0 && c1 < p.W),
                    select(0.0, 1.0, c2 >= 0 && c2 < p.W), select(0.0, 1.0, c3 >= 0 && c3 < p.W));
      let row = xn + ih * p.W;
      let i0 = row + clamp(c0, 0, p.W - 1); let i1 = row + clamp(c1, 0, p.W - 1);
      let i2 = row + clamp(c2, 0, p.W - 1); let i3 = row + clamp(c3, 0, p.W - 1);
      var kk = kh * p.KW + kw;
      var xo = 0;
      for (var ci = 0; ci < p.Cg; ci++) {
        let xv = vec4f(fx[i0 + xo], fx[i1 + xo], fx[i2 + xo], fx[i3 + xo]) * m;
        let wv = vec4f(fw[wb0 + kk], fw[wb1 + kk], fw[wb2 + kk], fw[wb3 + kk]);
        a0 += xv.x * wv;
        a1 += xv.y * wv;
        a2 += xv.z * wv;
        a3 += xv.w * wv;
        xo += HW;
        kk += KK;
      }
    }
  }

  let bias = p.extra != 0;
  let plane = p.OH * p.OW;
  for (var j = 0; j < 4; j++) {
    let og = og0 + j;
    if (og >= p.Og) { break; }
    let o = o0 + j;
    let bv = select(0.0, fb[o], bias);
    let base = ((n * p.O + o) * p.OH + oh) * p.OW + ow0;
    let lim = p.OW - ow0;
    if (lim > 0) { fy[base] = a0[j] + bv; }
    if (lim > 1) { fy[base + 1] = a1[j] + bv; }
    if (lim > 2) { fy[base + 2] = a2[j] + bv; }
    if (lim > 3) { fy[base + 3] = a3[j] + bv; }
  }
}

// forward_8: 8 output channels x 4 interleaved output columns ow = xb + j * XB.
// t = (((n * G + g) * CB + cb) * OH + oh) * XB + xb
@compute @workgroup_size(64)
fn forward_8(@builtin(global_invocation_id) gid: vec3u, @builtin(num_workgroups) nwg: vec3u) {
  var t = flat(gid, nwg);
  if (t >= p.total) { return; }
  let xb = t % p.XB; t = t / p.XB;
  let oh = t % p.OH; t = t / p.OH;
  let cb = t % p.CB; t = t / p.CB;
  let g = t % p.G;
  let n = t / p.G;

  let og0 = cb * 8;
  let o0 = g * p.Og + og0;
  let ow0 = xb;
  let ps = p.XB;
  let cs = ps * p.sW;
  let KK = p.KH * p.KW;
  let HW = p.H * p.W;
  // Weight rows of the 4 output channels (clamped into the group; extra lanes are not written).
  let wstride = p.Cg * KK;
  let wb0 = (g * p.Og + min(og0 + 0, p.Og - 1)) * wstride;
  let wb1 = (g * p.Og + min(og0 + 1, p.Og - 1)) * wstride;
  let wb2 = (g * p.Og + min(og0 + 2, p.Og - 1)) * wstride;
  let wb3 = (g * p.Og + min(og0 + 3, p.Og - 1)) * wstride;
  let wb4 = (g * p.Og + min(og0 + 4, p.Og - 1)) * wstride;
  let wb5 = (g * p.Og + min(og0 + 5, p.Og - 1)) * wstride;
  let wb6 = (g * p.Og + min(og0 + 6, p.Og - 1)) * wstride;
  let wb7 = (g * p.Og + min(og0 + 7, p.Og - 1)) * wstride;
  let xn = (n * p.C + g * p.Cg) * HW;
  let ih0 = oh * p.sH - p.pH;
  let iw0 = ow0 * p.sW - p.pW;

  var a0 = vec4f(0.0);
  var a1 = vec4f(0.0);
  var a2 = vec4f(0.0);
  var a3 = vec4f(0.0);
  var b0 = vec4f(0.0);
  var b1 = vec4f(0.0);
  var b2 = vec4f(0.0);
  var b3 = vec4f(0.0);
  for (var kh = 0; kh < p.KH; kh++) {
    let ih = ih0 + kh * p.dH;
    if (ih < 0 || ih >= p.H) { continue; }
    for (var kw = 0; kw < p.KW; kw++) {
      let iw = iw0 + kw * p.dW;
      let c0 = iw; let c1 = iw + cs; let c2 = iw + 2 * cs; let c3 = iw + 3 * cs;
      let m = vec4f(select(0.0, 1.0, c0 >= 0 && c0 < p.W), select(0.0, 1.0, c1 >= 0 && c1 < p.W),
                    select(0.0, 1.0, c2 >= 0 && c2 < p.W), select(0.0, 1.0, c3 >= 0 && c3 < p.W));
      let row = xn + ih * p.W;
      let i0 = row + clamp(c0, 0, p.W - 1); let i1 = row + clamp(c1, 0, p.W - 1);
      let i2 = row + clamp(c2, 0, p.W - 1); let i3 = row + clamp(c3, 0, p.W - 1);
      var kk = kh * p.KW + kw;
      var xo = 0;
      for (var ci = 0; ci < p.Cg; ci++) {
        let xv = vec4f(fx[i0 + xo], fx[i1 + xo], fx[i2 + xo], fx[i3 + xo]) * m;
        let wv = vec4f(fw[wb0 + kk], fw[wb1 + kk], fw[wb2 + kk], fw[wb3 + kk]);
        a0 += xv.x * wv;
        a1 += xv.y * wv;
        a2 += xv.z * wv;
        a3 += xv.w * wv;
        let wu = vec4f(fw[wb4 + kk], fw[wb5 + kk], fw[wb6 + kk], fw[wb7 + kk]);
        b0 += xv.x * wu;
        b1 += xv.y * wu;
        b2 += xv.z * wu;
        b3 += xv.w * wu;
        xo += HW;
        kk += KK;
      }
    }
  }

  let bias = p.extra != 0;
  let plane = p.OH * p.OW;
  for (var jj = 0; jj < 8; jj++) {
    let og = og0 + jj;
    if (og >= p.Og) { break; }
    let o = o0 + jj;
    let j = jj % 4;
    var c0 = a0; var c1 = a1; var c2 = a2; var c3 = a3;
    if (jj >= 4) { c0 = b0; c1 = b1; c2 = b2; c3 = b3; }
    let bv = select(0.0, fb[o], bias);
    let base = ((n * p.O + o) * p.OH + oh) * p.OW + ow0;
    let lim = p.OW - ow0;
    if (lim > 0) { fy[base] = c0[j] + bv; }
    if (lim > ps) { fy[base + ps] = c1[j] + bv; }
    if (lim > 2 * ps) { fy[base + 2 * ps] = c2[j] + bv; }
    if (lim > 3 * ps) { fy[base + 3 * ps] = c3[j] + bv; }
  }
}

// forward_1: one output channel x 4 output columns. t = ((n * O + o) * OH + oh) * XB + xb
@compute @workgroup_size(64)
fn forward_1(@builtin(global_invocation_id) gid: vec3u, @builtin(num_workgroups) nwg: vec3u) {
  var t = flat(gid, nwg);
  if (t >= p.total) { return; }
  let xb = t % p.XB; t = t / p.XB;
  let oh = t % p.OH; t = t / p.OH;
  let o = t % p.O;
  let n = t / p.O;
  let g = o / p.Og;

  let ow0 = xb * 4;
  let KK = p.KH * p.KW;
  let HW = p.H * p.W;
  let wb = o * p.Cg * KK;
  let xn = (n * p.C + g * p.Cg) * HW;
  let ih0 = oh * p.sH - p.pH;
  let iw0 = ow0 * p.sW - p.pW;

  var a = vec4f(0.0);
  for (var kh = 0; kh < p.KH; kh++) {
    let ih = ih0 + kh * p.dH;
    if (ih < 0 || ih >= p.H) { continue; }
    for (var kw = 0; kw < p.KW; kw++) {
      let iw = iw0 + kw * p.dW;
      let c0 = iw; let c1 = iw + p.sW; let c2 = iw + 2 * p.sW; let c3 = iw + 3 * p.sW;
      let m = vec4f(select(0.0, 1.0, c0 >= 0 && c0 < p.W), select(0.0, 1.0, c1 >= 0 && c1 < p.W),
                    select(0.0, 1.0, c2 >= 0 && c2 < p.W), select(0.0, 1.0, c3 >= 0 && c3 < p.W));
      let row = xn + ih * p.W;
      let i0 = row + clamp(c0, 0, p.W - 1); let i1 = row + clamp(c1, 0, p.W - 1);
      let i2 = row + clamp(c2, 0, p.W - 1); let i3 = row + clamp(c3, 0, p.W - 1);
      var kk = kh * p.KW + kw;
      var xo = 0;
      for (var ci = 0; ci < p.Cg; ci++) {
        let xv = vec4f(fx[i0 + xo], fx[i1 + xo], fx[i2 + xo], fx[i3 + xo]) * m;
        a += xv * fw[wb + kk];
        xo += HW;
        kk += KK;
      }
    }
  }

  let bv = select(0.0, fb[o], p.extra != 0);
  let base = ((n * p.O + o) * p.OH + oh) * p.OW + ow0;
  let lim = p.OW - ow0;
  if (lim > 0) { fy[base] = a.x + bv; }
  if (lim > 1) { fy[base + 1] = a.y + bv; }
  if (lim > 2) { fy[base + 2] = a.z + bv; }
  if (lim > 3) { fy[base + 3] = a.w + bv; }
}

// ------------------------------------------------------------------------------------------------
// backward_input: dx[n, c, ih, iw] = sum over o in c's group, kh, kw with
//   oh = (ih + pH - kh*dH) / sH and ow = (iw + pW - kw*dW) / sW integral and inside the output
//   of dy[n, o, oh, ow] * w[o, ci, kh, kw].
// The 4 columns of an invocation are iw_j = r + sW * (4q + j): same residue r, so for a tap kw
// either all or none are integral, and then ow_j = ow_0 + j.
// t = ((((n * G + g) * CB + cb) * H + ih) * XB + xb), xb = r * QB + q
fn col_mask(ow0: i32) -> vec4f {
  // dy column ow0 + j must be inside [0, OW) (dx columns outside [0, W) are computed, not stored)
  var m = vec4f(0.0);
  for (var j = 0; j < 4; j++) {
    let ow = ow0 + j;
    m[j] = select(0.0, 1.0, ow >= 0 && ow < p.OW);
  }
  return m;
}

@compute @workgroup_size(64)
fn backward_input(@builtin(global_invocation_id) gid: vec3u, @builtin(num_workgroups) nwg: vec3u) {
  var t = flat(gid, nwg);
  if (t >= p.total) { return; }
  let xb = t % p.XB; t = t / p.XB;
  let ih = t % p.H; t = t / p.H;
  let cb = t % p.CB; t = t / p.CB;
  let g = t % p.G;
  let n = t / p.G;
  let r = xb / p.QB;
  let q = xb % p.QB;
  let iw0 = r + p.sW * 4 * q;

  let ci0 = cb * 4;
  let KK = p.KH * p.KW;
  let wstride = p.Cg * KK;      // between output channels
  let cw0 = min(ci0 + 0, p.Cg - 1) * KK;
  let cw1 = min(ci0 + 1, p.Cg - 1) * KK;
  let cw2 = min(ci0 + 2, p.Cg - 1) * KK;
  let cw3 = min(ci0 + 3, p.Cg - 1) * KK;
  let plane = p.OH * p.OW;
  let dyn = (n * p.O + g * p.Og) * plane;
  let wg0 = g * p.Og * wstride;

  var a0 = vec4f(0.0);
  var a1 = vec4f(0.0);
  var a2 = vec4f(0.0);
  var a3 = vec4f(0.0);
  for (var kh = 0; kh < p.KH; kh++) {
    let num = ih + p.pH - kh * p.dH;
    if (num < 0 || num % p.sH != 0) { continue; }
    let oh = num / p.sH;
    if (oh >= p.OH) { continue; }
    for (var kw = 0; kw < p.KW; kw++) {
      let mw = r + p.pW - kw * p.dW;
      if (((mw % p.sW) + p.sW) % p.sW != 0) { continue; }
      let ow0 = 4 * q + mw / p.sW;
      if (ow0 >= p.OW || ow0 + 3 < 0) { continue; }
      let m = col_mask(ow0);
      let row = dyn + oh * p.OW;
      let i0 = row + clamp(ow0, 0, p.OW - 1); let i1 = row + clamp(ow0 + 1, 0, p.OW - 1);
      let i2 = row + clamp(ow0 + 2, 0, p.OW - 1); let i3 = row + clamp(ow0 + 3, 0, p.OW - 1);
      let kk = kh * p.KW + kw;
      var wo = wg0 + kk;
      var yo = 0;
      for (var og = 0; og < p.Og; og++) {
        let dv = vec4f(bdy[i0 + yo], bdy[i1 + yo], bdy[i2 + yo], bdy[i3 + yo]) * m;
        let wv = vec4f(bin[wo + cw0], bin[wo + cw1], bin[wo + cw2], bin[wo + cw3]);
        a0 += dv.x * wv;
        a1 += dv.y * wv;
        a2 += dv.z * wv;
        a3 += dv.w * wv;
        yo += plane;
        wo += wstride;
      }
    }
  }

  let HW = p.H * p.W;
  for (var j = 0; j < 4; j++) {
    let ci = ci0 + j;
    if (ci >= p.Cg) { break; }
    let base = (n * p.C + g * p.Cg + ci) * HW + ih * p.W;
    let c0 = iw0; let c1 = iw0 + p.sW; let c2 = iw0 + 2 * p.sW; let c3 = iw0 + 3 * p.sW;
    if (c0 < p.W) { bout[base + c0] = a0[j]; }
    if (c1 < p.W) { bout[base + c1] = a1[j]; }
    if (c2 < p.W) { bout[base + c2] = a2[j]; }
    if (c3 < p.W) { bout[base + c3] = a3[j]; }
  }
}

// backward_input_8: backward_input with 8 input channels per invocation (same mapping).
@compute @workgroup_size(64)
fn backward_input_8(@builtin(global_invocation_id) gid: vec3u, @builtin(num_workgroups) nwg: vec3u) {
  var t = flat(gid, nwg);
  if (t >= p.total) { return; }
  let xb = t % p.XB; t = t / p.XB;
  let ih = t % p.H; t = t / p.H;
  let cb = t % p.CB; t = t / p.CB;
  let g = t % p.G;
  let n = t / p.G;
  let r = xb / p.QB;
  let q = xb % p.QB;
  let iw0 = r + p.sW * 4 * q;

  let ci0 = cb * 8;
  let KK = p.KH * p.KW;
  let wstride = p.Cg * KK;      // between output channels
  let cw0 = min(ci0 + 0, p.Cg - 1) * KK;
  let cw1 = min(ci0 + 1, p.Cg - 1) * KK;
  let cw2 = min(ci0 + 2, p.Cg - 1) * KK;
  let cw3 = min(ci0 + 3, p.Cg - 1) * KK;
  let cw4 = min(ci0 + 4, p.Cg - 1) * KK;
  let cw5 = min(ci0 + 5, p.Cg - 1) * KK;
  let cw6 = min(ci0 + 6, p.Cg - 1) * KK;
  let cw7 = min(ci0 + 7, p.Cg - 1) * KK;
  let plane = p.OH * p.OW;
  let dyn = (n * p.O + g * p.Og) * plane;
  let wg0 = g * p.Og * wstride;

  var a0 = vec4f(0.0);
  var a1 = vec4f(0.0);
  var a2 = vec4f(0.0);
  var a3 = vec4f(0.0);
  var b0 = vec4f(0.0);
  var b1 = vec4f(0.0);
  var b2 = vec4f(0.0);
  var b3 = vec4f(0.0);
  for (var kh = 0; kh < p.KH; kh++) {
    let num = ih + p.pH - kh * p.dH;
    if (num < 0 || num % p.sH != 0) { continue; }
    let oh = num / p.sH;
    if (oh >= p.OH) { continue; }
    for (var kw = 0; kw < p.KW; kw++) {
      let mw = r + p.pW - kw * p.dW;
      if (((mw % p.sW) + p.sW) % p.sW != 0) { continue; }
      let ow0 = 4 * q + mw / p.sW;
      if (ow0 >= p.OW || ow0 + 3 < 0) { continue; }
      let m = col_mask(ow0);
      let row = dyn + oh * p.OW;
      let i0 = row + clamp(ow0, 0, p.OW - 1); let i1 = row + clamp(ow0 + 1, 0, p.OW - 1);
      let i2 = row + clamp(ow0 + 2, 0, p.OW - 1); let i3 = row + clamp(ow0 + 3, 0, p.OW - 1);
      let kk = kh * p.KW + kw;
      var wo = wg0 + kk;
      var yo = 0;
      for (var og = 0; og < p.Og; og++) {
        let dv = vec4f(bdy[i0 + yo], bdy[i1 + yo], bdy[i2 + yo], bdy[i3 + yo]) * m;
        let wv = vec4f(bin[wo + cw0], bin[wo + cw1], bin[wo + cw2], bin[wo + cw3]);
        a0 += dv.x * wv;
        a1 += dv.y * wv;
        a2 += dv.z * wv;
        a3 += dv.w * wv;
        let wu = vec4f(bin[wo + cw4], bin[wo + cw5], bin[wo + cw6], bin[wo + cw7]);
        b0 += dv.x * wu;
        b1 += dv.y * wu;
        b2 += dv.z * wu;
        b3 += dv.w * wu;
        yo += plane;
        wo += wstride;
      }
    }
  }

  let HW = p.H * p.W;
  for (var jj = 0; jj < 8; jj++) {
    let ci = ci0 + jj;
    if (ci >= p.Cg) { break; }
    let j = jj % 4;
    var e0 = a0; var e1 = a1; var e2 = a2; var e3 = a3;
    if (jj >= 4) { e0 = b0; e1 = b1; e2 = b2; e3 = b3; }
    let base = (n * p.C + g * p.Cg + ci) * HW + ih * p.W;
    let c0 = iw0; let c1 = iw0 + p.sW; let c2 = iw0 + 2 * p.sW; let c3 = iw0 + 3 * p.sW;
    if (c0 < p.W) { bout[base + c0] = e0[j]; }
    if (c1 < p.W) { bout[base + c1] = e1[j]; }
    if (c2 < p.W) { bout[base + c2] = e2[j]; }
    if (c3 < p.W) { bout[base + c3] = e3[j]; }
  }
}

// backward_input_1: one input channel. t = (((n * C + c) * H + ih) * XB + xb)
@compute @workgroup_size(64)
fn backward_input_1(@builtin(global_invocation_id) gid: vec3u, @builtin(num_workgroups) nwg: vec3u) {
  var t = flat(gid, nwg);
  if (t >= p.total) { return; }
  let xb = t % p.XB; t = t / p.XB;
  let ih = t % p.H; t = t / p.H;
  let c = t % p.C;
  let n = t / p.C;
  let g = c / p.Cg;
  let ci = c % p.Cg;
  let r = xb / p.QB;
  let q = xb % p.QB;
  let iw0 = r + p.sW * 4 * q;

  let KK = p.KH * p.KW;
  let wstride = p.Cg * KK;
  let plane = p.OH * p.OW;
  let dyn = (n * p.O + g * p.Og) * plane;
  let wg0 = g * p.Og * wstride + ci * KK;

  var a = vec4f(0.0);
  for (var kh = 0; kh < p.KH; kh++) {
    let num = ih + p.pH - kh * p.dH;
    if (num < 0 || num % p.sH != 0) { continue; }
    let oh = num / p.sH;
    if (oh >= p.OH) { continue; }
    for (var kw = 0; kw < p.KW; kw++) {
      let mw = r + p.pW - kw * p.dW;
      if (((mw % p.sW) + p.sW) % p.sW != 0) { continue; }
      let ow0 = 4 * q + mw / p.sW;
      if (ow0 >= p.OW || ow0 + 3 < 0) { continue; }
      let m = col_mask(ow0);
      let row = dyn + oh * p.OW;
      let i0 = row + clamp(ow0, 0, p.OW - 1); let i1 = row + clamp(ow0 + 1, 0, p.OW - 1);
      let i2 = row + clamp(ow0 + 2, 0, p.OW - 1); let i3 = row + clamp(ow0 + 3, 0, p.OW - 1);
      var wo = wg0 + kh * p.KW + kw;
      var yo = 0;
      for (var og = 0; og < p.Og; og++) {
        let dv = vec4f(bdy[i0 + yo], bdy[i1 + yo], bdy[i2 + yo], bdy[i3 + yo]) * m;
        a += dv * bin[wo];
        yo += plane;
        wo += wstride;
      }
    }
  }

  let base = (n * p.C + c) * p.H * p.W + ih * p.W;
  let c0 = iw0; let c1 = iw0 + p.sW; let c2 = iw0 + 2 * p.sW; let c3 = iw0 + 3 * p.sW;
  if (c0 < p.W) { bout[base + c0] = a.x; }
  if (c1 < p.W) { bout[base + c1] = a.y; }
  if (c2 < p.W) { bout[base + c2] = a.z; }
  if (c3 < p.W) { bout[base + c3] = a.w; }
}

// ------------------------------------------------------------------------------------------------
// backward_weight: dw[o, ci, kh, kw] = sum_{n, oh, ow} dy[n, o, oh, ow] * x[n, g*Cg+ci, ih, iw]
// with ih = oh*sH - pH + kh*dH, iw = ow*sW - pW + kw*dW inside the image.
// t = ((((s * G + g) * CB + ob) * XB + cb) * KK + kk); chunk s covers images [s*extra, ...).
// Output: bout[s * (O*Cg*KK) + widx] (partials when S > 1, the gradient itself when S == 1).

// Output index range [lo, hi) whose input coordinate o*stride + off lies in [0, size).
fn valid_range(off: i32, stride: i32, size: i32, outSize: i32) -> vec2i {
  var lo = 0;
  if (off < 0) { lo = (-off + stride - 1) / stride; }
  var hi = outSize;
  let last = size - 1 - off;
  if (last < 0) { hi = 0; } else { hi = min(outSize, last / stride + 1); }
  return vec2i(lo, max(lo, hi));
}

@compute @workgroup_size(64)
fn backward_weight(@builtin(global_invocation_id) gid: vec3u, @builtin(num_workgroups) nwg: vec3u) {
  var t = flat(gid, nwg);
  if (t >= p.total) { return; }
  let KK = p.KH * p.KW;
  let kk = t % KK; t = t / KK;
  let cb = t % p.XB; t = t / p.XB;
  let ob = t % p.CB; t = t / p.CB;
  let g = t % p.G;
  let s = t / p.G;
  let kh = kk / p.KW;
  let kw = kk % p.KW;

  let og0 = ob * 4;
  let ci0 = cb * 4;
  let rh = valid_range(kh * p.dH - p.pH, p.sH, p.H, p.OH);
  let rw = valid_range(kw * p.dW - p.pW, p.sW, p.W, p.OW);
  let plane = p.OH * p.OW;
  let HW = p.H * p.W;
  // Channel offsets (clamped: the extra lanes compute garbage that is never written).
  let o = g * p.Og;
  let y0 = min(og0 + 0, p.Og - 1) * plane; let y1 = min(og0 + 1, p.Og - 1) * plane;
  let y2 = min(og0 + 2, p.Og - 1) * plane; let y3 = min(og0 + 3, p.Og - 1) * plane;
  let x0 = min(ci0 + 0, p.Cg - 1) * HW; let x1 = min(ci0 + 1, p.Cg - 1) * HW;
  let x2 = min(ci0 + 2, p.Cg - 1) * HW; let x3 = min(ci0 + 3, p.Cg - 1) * HW;

  var a0 = vec4f(0.0);
  var a1 = vec4f(0.0);
  var a2 = vec4f(0.0);
  var a3 = vec4f(0.0);
  let nBegin = s * p.extra;
  let nEnd = min(p.N, nBegin + p.extra);
  let colOff = kw * p.dW - p.pW;
  for (var n = nBegin; n < nEnd; n++) {
    let yn = (n * p.O + o) * plane;
    let xn = (n * p.C + g * p.Cg) * HW;
    for (var oh = rh.x; oh < rh.y; oh++) {
      let yrow = yn + oh * p.OW;
      let xrow = xn + (oh * p.sH - p.pH + kh * p.dH) * p.W + colOff;
      var xi = xrow + rw.x * p.sW;
      for (var ow = rw.x; ow < rw.y; ow++) {
        let yi = yrow + ow;
        let dv = vec4f(bdy[yi + y0], bdy[yi + y1], bdy[yi + y2], bdy[yi + y3]);
        let xv = vec4f(bin[xi + x0], bin[xi + x1], bin[xi + x2], bin[xi + x3]);
        a0 += dv.x * xv;
        a1 += dv.y * xv;
        a2 += dv.z * xv;
        a3 += dv.w * xv;
        xi += p.sW;
      }
    }
  }

  let WS = p.O * p.Cg * KK;
  let outBase = s * WS;
  for (var j = 0; j < 4; j++) {
    let og = og0 + j;
    if (og >= p.Og) { break; }
    var acc = a0;
    if (j == 1) { acc = a1; } else if (j == 2) { acc = a2; } else if (j == 3) { acc = a3; }
    let wbase = outBase + ((o + og) * p.Cg) * KK + kk;
    for (var i = 0; i < 4; i++) {
      let ci = ci0 + i;
      if (ci >= p.Cg) { break; }
      bout[wbase + ci * KK] = acc[i];
    }
  }
}

// backward_weight_8: backward_weight with 8 output channels per invocation (same mapping).
@compute @workgroup_size(64)
fn backward_weight_8(@builtin(global_invocation_id) gid: vec3u, @builtin(num_workgroups) nwg: vec3u) {
  var t = flat(gid, nwg);
  if (t >= p.total) { return; }
  let KK = p.KH * p.KW;
  let kk = t % KK; t = t / KK;
  let cb = t % p.XB; t = t / p.XB;
  let ob = t % p.CB; t = t / p.CB;
  let g = t % p.G;
  let s = t / p.G;
  let kh = kk / p.KW;
  let kw = kk % p.KW;

  let og0 = ob * 8;
  let ci0 = cb * 4;
  let rh = valid_range(kh * p.dH - p.pH, p.sH, p.H, p.OH);
  let rw = valid_range(kw * p.dW - p.pW, p.sW, p.W, p.OW);
  let plane = p.OH * p.OW;
  let HW = p.H * p.W;
  // Channel offsets (clamped: the extra lanes compute garbage that is never written).
  let o = g * p.Og;
  let y0 = min(og0 + 0, p.Og - 1) * plane; let y1 = min(og0 + 1, p.Og - 1) * plane;
  let y2 = min(og0 + 2, p.Og - 1) * plane; let y3 = min(og0 + 3, p.Og - 1) * plane;
  let y4 = min(og0 + 4, p.Og - 1) * plane; let y5 = min(og0 + 5, p.Og - 1) * plane;
  let y6 = min(og0 + 6, p.Og - 1) * plane; let y7 = min(og0 + 7, p.Og - 1) * plane;
  let x0 = min(ci0 + 0, p.Cg - 1) * HW; let x1 = min(ci0 + 1, p.Cg - 1) * HW;
  let x2 = min(ci0 + 2, p.Cg - 1) * HW; let x3 = min(ci0 + 3, p.Cg - 1) * HW;

  var a0 = vec4f(0.0);
  var a1 = vec4f(0.0);
  var a2 = vec4f(0.0);
  var a3 = vec4f(0.0);
  var a4 = vec4f(0.0);
  var a5 = vec4f(0.0);
  var a6 = vec4f(0.0);
  var a7 = vec4f(0.0);
  let nBegin = s * p.extra;
  let nEnd = min(p.N, nBegin + p.extra);
  let colOff = kw * p.dW - p.pW;
  for (var n = nBegin; n < nEnd; n++) {
    let yn = (n * p.O + o) * plane;
    let xn = (n * p.C + g * p.Cg) * HW;
    for (var oh = rh.x; oh < rh.y; oh++) {
      let yrow = yn + oh * p.OW;
      let xrow = xn + (oh * p.sH - p.pH + kh * p.dH) * p.W + colOff;
      var xi = xrow + rw.x * p.sW;
      for (var ow = rw.x; ow < rw.y; ow++) {
        let yi = yrow + ow;
        let dv = vec4f(bdy[yi + y0], bdy[yi + y1], bdy[yi + y2], bdy[yi + y3]);
        let xv = vec4f(bin[xi + x0], bin[xi + x1], bin[xi + x2], bin[xi + x3]);
        a0 += dv.x * xv;
        a1 += dv.y * xv;
        a2 += dv.z * xv;
        a3 += dv.w * xv;
        let du = vec4f(bdy[yi + y4], bdy[yi + y5], bdy[yi + y6], bdy[yi + y7]);
        a4 += du.x * xv;
        a5 += du.y * xv;
        a6 += du.z * xv;
        a7 += du.w * xv;
        xi += p.sW;
      }
    }
  }

  let WS = p.O * p.Cg * KK;
  let outBase = s * WS;
  for (var j = 0; j < 8; j++) {
    let og = og0 + j;
    if (og >= p.Og) { break; }
    var acc = a0;
    switch (j) {
      case 1: { acc = a1; }
      case 2: { acc = a2; }
      case 3: { acc = a3; }
      case 4: { acc = a4; }
      case 5: { acc = a5; }
      case 6: { acc = a6; }
      case 7: { acc = a7; }
      default: {}
    }
    let wbase = outBase + ((o + og) * p.Cg) * KK + kk;
    for (var i = 0; i < 4; i++) {
      let ci = ci0 + i;
      if (ci >= p.Cg) { break; }
      bout[wbase + ci * KK] = acc[i];
    }
  }
}

// backward_weight_1: one weight element. t = ((s * O + o) * Cg + ci) * KK + kk
@compute @workgroup_size(64)
fn backward_weight_1(@builtin(global_invocation_id) gid: vec3u, @builtin(num_workgroups) nwg: vec3u) {
  let widx = flat(gid, nwg);
  if (widx >= p.total) { return; }
  let KK = p.KH * p.KW;
  let WS = p.O * p.Cg * KK;
  var t = widx;
  let kk = t % KK; t = t / KK;
  let ci = t % p.Cg; t = t / p.Cg;
  let o = t % p.O;
  let s = t / p.O;
  let kh = kk / p.KW;
  let kw = kk % p.KW;
  let c = (o / p.Og) * p.Cg + ci;

  let rh = valid_range(kh * p.dH - p.pH, p.sH, p.H, p.OH);
  let rw = valid_range(kw * p.dW - p.pW, p.sW, p.W, p.OW);
  let plane = p.OH * p.OW;
  let HW = p.H * p.W;
  let colOff = kw * p.dW - p.pW;
  var acc = 0.0;
  let nBegin = s * p.extra;
  let nEnd = min(p.N, nBegin + p.extra);
  for (var n = nBegin; n < nEnd; n++) {
    let yn = (n * p.O + o) * plane;
    let xn = (n * p.C + c) * HW;
    for (var oh = rh.x; oh < rh.y; oh++) {
      let yrow = yn + oh * p.OW;
      var xi = xn + (oh * p.sH - p.pH + kh * p.dH) * p.W + colOff + rw.x * p.sW;
      for (var ow = rw.x; ow < rw.y; ow++) {
        acc += bdy[yrow + ow] * bin[xi];
        xi += p.sW;
      }
    }
  }
  bout[widx] = acc;
}

// reduce_partials: out[i] = sum_s part[s * total + i]
@compute @workgroup_size(64)
fn reduce_partials(@builtin(global_invocation_id) gid: vec3u, @builtin(num_workgroups) nwg: vec3u) {
  let i = flat(gid, nwg);
  if (i >= p.total) { return; }
  var acc = 0.0;
  var k = i;
  for (var s = 0; s < p.S; s++) {
    acc += rin[k];
    k += p.total;
  }
  rout[i] = acc;
}

// ------------------------------------------------------------------------------------------------
// channel_sum: s[c] = sum_{n, i} x[n, c, i] for x [N, C, HW] (p.N, p.C, p.H = HW).
// One workgroup per channel (flat over a 2-D grid); 64 strided partial sums, then 8, then 1.
var<workgroup> partial: array<f32, 64>;

@compute @workgroup_size(64)
fn channel_sum(@builtin(workgroup_id) wid: vec3u, @builtin(num_workgroups) nwg: vec3u,
               @builtin(local_invocation_index) lid: u32) {
  let c = i32(wid.x + wid.y * nwg.x);
  let HW = p.H;
  var acc = 0.0;
  if (c < p.C) {
    if (HW >= 64) {
      for (var n = 0; n < p.N; n++) {
        let base = (n * p.C + c) * HW;
        for (var i = i32(lid); i < HW; i += 64) { acc += rin[base + i]; }
      }
    } else {
      let total = p.N * HW;
      for (var e = i32(lid); e < total; e += 64) {
        let n = e / HW;
        acc += rin[(n * p.C + c) * HW + e - n * HW];
      }
    }
  }
  partial[lid] = acc;
  workgroupBarrier();
  if (lid < 8u) {
    var s = 0.0;
    for (var k = 0u; k < 8u; k++) { s += partial[lid * 8u + k]; }
    partial[lid * 8u] = s;
  }
  workgroupBarrier();
  if (lid == 0u && c < p.C) {
    var s = 0.0;
    for (var k = 0u; k < 8u; k++) { s += partial[k * 8u]; }
    rout[c] = s;
  }
}
