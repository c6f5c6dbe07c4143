// ------------------------------------------------------------------------------------------------
// forward: y[n, o, oh, ow] = b[o] + sum_{ci, kh, kw} x[n, g*Cg+ci, oh*sH-pH+kh*dH, ow*sW-pW+kw*dW]
//                                                      * w[o, ci, kh, kw]
// 4 output channels (8 when WIDE) x 4 interleaved output columns ow = xb + j * XB of one row.
// t = (((n * G + g) * CB + cb) * OH + oh) * XB + xb
// The 4 input columns iw + j * step of a kernel tap in row `row`: their indices (clamped into the
// row) and a 0/1 mask of those inside the image (padding reads as 0).
struct Taps { m: vec4f, i: vec4i }
fn input_taps(row: i32, iw: i32, step: i32) -> Taps {
  let c = vec4i(iw, iw + step, iw + 2 * step, iw + 3 * step);
  let inside = (c >= vec4i(0)) & (c < vec4i(p.W));
  return Taps(select(vec4f(0.0), vec4f(1.0), inside), vec4i(row) + clamp(c, vec4i(0), vec4i(p.W - 1)));
}

override WIDE: bool = false;

@compute @workgroup_size(64)
fn forward(@builtin(global_invocation_id) gid: vec3u, @builtin(num_workgroups) nwg: vec3u) {
  var t = flat(gid, nwg);
  if (t >= p.total) { return; }
  let xb = t % p.XB; t = t / p.XB;
  let oh = t % p.OH; t = t / p.OH;
  let cb = t % p.CB; t = t / p.CB;
  let g = t % p.G;
  let n = t / p.G;

  let tile = select(4, 8, WIDE);
  let og0 = cb * tile;
  let o0 = g * p.Og + og0;
  let ow0 = xb;
  let ps = p.XB;
  let cs = ps * p.sW;
  let KK = p.KH * p.KW;
  let HW = p.H * p.W;
  // Weight rows of the output channels (clamped into the group; extra lanes are not written).
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
      let tp = input_taps(xn + ih * p.W, iw0 + kw * p.dW, cs);
      let m = tp.m;
      let i0 = tp.i.x; let i1 = tp.i.y; let i2 = tp.i.z; let i3 = tp.i.w;
      var kk = kh * p.KW + kw;
      var xo = 0;
      for (var ci = 0; ci < p.Cg; ci++) {
        let xv = vec4f(fx[i0 + xo], fx[i1 + xo], fx[i2 + xo], fx[i3 + xo]) * m;
        let wv = vec4f(fw[wb0 + kk], fw[wb1 + kk], fw[wb2 + kk], fw[wb3 + kk]);
        a0 += xv.x * wv;
        a1 += xv.y * wv;
        a2 += xv.z * wv;
        a3 += xv.w * wv;
        if (WIDE) {
          let wu = vec4f(fw[wb4 + kk], fw[wb5 + kk], fw[wb6 + kk], fw[wb7 + kk]);
          b0 += xv.x * wu;
          b1 += xv.y * wu;
          b2 += xv.z * wu;
          b3 += xv.w * wu;
        }
        xo += HW;
        kk += KK;
      }
    }
  }

  let bias = p.extra != 0;
  for (var jj = 0; jj < tile; jj++) {
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
      let tp = input_taps(xn + ih * p.W, iw0 + kw * p.dW, p.sW);
      let m = tp.m;
      let i0 = tp.i.x; let i1 = tp.i.y; let i2 = tp.i.z; let i3 = tp.i.w;
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

