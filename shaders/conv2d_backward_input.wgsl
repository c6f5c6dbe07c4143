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

// 4 input channels per invocation, 8 when WIDE.
override WIDE: bool = false;

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

  let tile = select(4, 8, WIDE);
  let ci0 = cb * tile;
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
        if (WIDE) {
          let wu = vec4f(bin[wo + cw4], bin[wo + cw5], bin[wo + cw6], bin[wo + cw7]);
          b0 += dv.x * wu;
          b1 += dv.y * wu;
          b2 += dv.z * wu;
          b3 += dv.w * wu;
        }
        yo += plane;
        wo += wstride;
      }
    }
  }

  let HW = p.H * p.W;
  for (var jj = 0; jj < tile; jj++) {
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

