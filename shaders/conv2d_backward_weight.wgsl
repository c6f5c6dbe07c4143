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

// 4 output channels x 4 input channels per invocation, 8 x 4 when WIDE.
override WIDE: bool = false;

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

  let tile = select(4, 8, WIDE);
  let og0 = ob * tile;
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
        if (WIDE) {
          let du = vec4f(bdy[yi + y4], bdy[yi + y5], bdy[yi + y6], bdy[yi + y7]);
          a4 += du.x * xv;
          a5 += du.y * xv;
          a6 += du.z * xv;
          a7 += du.w * xv;
        }
        xi += p.sW;
      }
    }
  }

  let WS = p.O * p.Cg * KK;
  let outBase = s * WS;
  for (var j = 0; j < tile; j++) {
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
