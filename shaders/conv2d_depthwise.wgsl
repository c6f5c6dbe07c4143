// Depthwise 2-D convolution (groups == C, one input channel per group, channel multiplier
// Og = O / C >= 1), forward and backward, NCHW activations, OIHW weights [O, 1, KH, KW].
// Every shape arrives in the uniform `p`; the host picks the entry point by the column stride
// (1 or 2) and sends only layers with KW <= 4 and column dilation 1 here (the rest go to the
// generic kernels in conv2d_*.wgsl). Rows are independent, so any row stride / dilation works.
//
// Work split: every invocation owns 4 consecutive output (or input) columns of one row and keeps
// the input window of one kernel row in registers, reused by all taps of that row (sliding window):
//   dw_forward         4 outputs, window x[iw0 .. iw0+6]            (6 loads for 12 MACs at KW=3)
//                      or, STRIDE2, x[iw0 .. iw0+9], even/odd       (9 loads for 12 MACs)
//   dw_backward_input_s1  4 input columns, gather over dy[iw + pW - kw] (6 loads per 12 MACs)
//   dw_backward_input_s2  2 input rows x 8 consecutive input columns = 4 of each residue r
//                      (iw = 8q + r + 2j): only the taps of parity (r + pW) contribute, their dy
//                      columns are 4 consecutive ones, shifted by one between kw and kw + 2; one
//                      window dy[b .. b+5] serves both residues and both rows (at 3x3 s2:
//                      2 windows, 12 loads, for 16 outputs)
//   dw_backward_weight (STRIDE2 or not)
//                      one (output channel, kernel row) per invocation, all KW <= 4 taps in a
//                      vec4 accumulator, over a chunk of the N * OH output rows: per 4 output
//                      columns 4 dy loads + the x window (7 or 10), 4 dot products. Each chunk
//                      writes partial sums [S, O * KH * KW]; `reduce_partials` adds them up.
// Loads outside the image (padding) read as 0: one select per window value, none per MAC.
// The uniform (XB: column blocks per row, forward ceil(OW/4), backward_input s1 ceil(W/4), s2
// ceil(W/8), s2 also taking 2 rows per invocation; extra: bias flag or output rows per chunk), the
// bindings, flat() and reduce_partials come from conv2d_common.wgsl, prepended by the host.
// Column stride 2 is the pipeline-overridable constant STRIDE2 for forward and backward_weight.
override STRIDE2: bool = false;

// x[row + c], or 0 outside [0, W)
fn ldx(row: i32, c: i32) -> f32 {
  return select(0.0, fx[row + clamp(c, 0, p.W - 1)], c >= 0 && c < p.W);
}
// dy[row + c], or 0 outside [0, OW)
fn ldy(row: i32, c: i32) -> f32 {
  return select(0.0, bdy[row + clamp(c, 0, p.OW - 1)], c >= 0 && c < p.OW);
}
// x for backward_weight (binding 2 = bin), or 0 outside [0, W)
fn ldbx(row: i32, c: i32) -> f32 {
  return select(0.0, bin[row + clamp(c, 0, p.W - 1)], c >= 0 && c < p.W);
}

// Weights of kernel row kh of output channel o, taps kw >= KW read as 0 (from binding `fw`).
fn wrow_f(o: i32, kh: i32) -> vec4f {
  let b = (o * p.KH + kh) * p.KW;
  return vec4f(fw[b], select(0.0, fw[b + min(1, p.KW - 1)], p.KW > 1),
               select(0.0, fw[b + min(2, p.KW - 1)], p.KW > 2), select(0.0, fw[b + min(3, p.KW - 1)], p.KW > 3));
}
fn wrow_b(o: i32, kh: i32) -> vec4f {
  let b = (o * p.KH + kh) * p.KW;
  return vec4f(bin[b], select(0.0, bin[b + min(1, p.KW - 1)], p.KW > 1),
               select(0.0, bin[b + min(2, p.KW - 1)], p.KW > 2), select(0.0, bin[b + min(3, p.KW - 1)], p.KW > 3));
}

fn store_fwd(n: i32, o: i32, oh: i32, ow0: i32, a: vec4f) {
  let bv = select(0.0, fb[o], p.extra != 0);
  let base = ((n * p.O + o) * p.OH + oh) * p.OW + ow0;
  let lim = p.OW - ow0;
  fy[base] = a.x + bv;
  if (lim > 1) { fy[base + 1] = a.y + bv; }
  if (lim > 2) { fy[base + 2] = a.z + bv; }
  if (lim > 3) { fy[base + 3] = a.w + bv; }
}

// ------------------------------------------------------------------------------------------------
// forward: t = ((n * O + o) * OH + oh) * XB + xb, outputs ow0 + j, ow0 = 4 * xb
// Kernel row w applied to the 4 outputs from input row `row`, columns from iw0 (stride 1 or 2).
fn fwd_row(row: i32, iw0: i32, w: vec4f) -> vec4f {
  var a = vec4f(0.0);
  if (STRIDE2) {
    let e0 = ldx(row, iw0); let e1 = ldx(row, iw0 + 2); let e2 = ldx(row, iw0 + 4);
    let e3 = ldx(row, iw0 + 6); let e4 = ldx(row, iw0 + 8);
    let o0 = ldx(row, iw0 + 1); let o1 = ldx(row, iw0 + 3); let o2 = ldx(row, iw0 + 5);
    let o3 = ldx(row, iw0 + 7);
    a += w.x * vec4f(e0, e1, e2, e3);
    a += w.y * vec4f(o0, o1, o2, o3);
    a += w.z * vec4f(e1, e2, e3, e4);
    if (p.KW > 3) { a += w.w * vec4f(o1, o2, o3, ldx(row, iw0 + 9)); }
  } else {
    let x0 = ldx(row, iw0); let x1 = ldx(row, iw0 + 1); let x2 = ldx(row, iw0 + 2);
    let x3 = ldx(row, iw0 + 3); let x4 = ldx(row, iw0 + 4); let x5 = ldx(row, iw0 + 5);
    a += w.x * vec4f(x0, x1, x2, x3);
    a += w.y * vec4f(x1, x2, x3, x4);
    a += w.z * vec4f(x2, x3, x4, x5);
    if (p.KW > 3) { a += w.w * vec4f(x3, x4, x5, ldx(row, iw0 + 6)); }
  }
  return a;
}

@compute @workgroup_size(64)
fn dw_forward(@builtin(global_invocation_id) gid: vec3u, @builtin(num_workgroups) nwg: vec3u) {
  var t = flat(gid, nwg);
  if (t >= p.total) { return; }
  let xb = t % p.XB; t = t / p.XB;
  let oh = t % p.OH; t = t / p.OH;
  let o = t % p.O;
  let n = t / p.O;
  let ow0 = xb * 4;
  let iw0 = ow0 * select(1, 2, STRIDE2) - p.pW;
  let xn = (n * p.C + o / p.Og) * p.H * p.W;
  var a = vec4f(0.0);
  for (var kh = 0; kh < p.KH; kh++) {
    let ih = oh * p.sH - p.pH + kh * p.dH;
    if (ih < 0 || ih >= p.H) { continue; }
    a += fwd_row(xn + ih * p.W, iw0, wrow_f(o, kh));
  }
  store_fwd(n, o, oh, ow0, a);
}

// ------------------------------------------------------------------------------------------------
// backward_input: dx[n, c, ih, iw] = sum_{m < Og, kh, kw} dy[n, c*Og+m, oh, ow] * w[c*Og+m, kh, kw]
// with oh = (ih + pH - kh*dH) / sH integral and in range, ow = (iw + pW - kw) / sW.

// s1: t = ((n * C + c) * H + ih) * XB + xb, columns iw0 + j, iw0 = 4 * xb
@compute @workgroup_size(64)
fn dw_backward_input_s1(@builtin(global_invocation_id) gid: vec3u, @builtin(num_workgroups) nwg: vec3u) {
  var t = flat(gid, nwg);
  if (t >= p.total) { return; }
  let xb = t % p.XB; t = t / p.XB;
  let ih = t % p.H; t = t / p.H;
  let c = t % p.C;
  let n = t / p.C;
  let iw0 = xb * 4;
  // column j, tap kw reads dy column iw0 + j + pW - kw = b + (j + 3 - kw)
  let b = iw0 + p.pW - 3;
  let plane = p.OH * p.OW;
  var a = vec4f(0.0);
  for (var kh = 0; kh < p.KH; kh++) {
    let num = ih + p.pH - kh * p.dH;
    if (num < 0 || num % p.sH != 0) { continue; }
    let oh = num / p.sH;
    if (oh >= p.OH) { continue; }
    for (var m = 0; m < p.Og; m++) {
      let o = c * p.Og + m;
      let row = ((n * p.O + o) * p.OH + oh) * p.OW;
      let w = wrow_b(o, kh);
      let y1 = ldy(row, b + 1); let y2 = ldy(row, b + 2); let y3 = ldy(row, b + 3);
      let y4 = ldy(row, b + 4); let y5 = ldy(row, b + 5); let y6 = ldy(row, b + 6);
      a += w.x * vec4f(y3, y4, y5, y6);
      a += w.y * vec4f(y2, y3, y4, y5);
      a += w.z * vec4f(y1, y2, y3, y4);
      if (p.KW > 3) { a += w.w * vec4f(ldy(row, b), y1, y2, y3); }
    }
  }
  let base = ((n * p.C + c) * p.H + ih) * p.W + iw0;
  let lim = p.W - iw0;
  bout[base] = a.x;
  if (lim > 1) { bout[base + 1] = a.y; }
  if (lim > 2) { bout[base + 2] = a.z; }
  if (lim > 3) { bout[base + 3] = a.w; }
}

// s2: t = ((n * C + c) * HB + hb) * XB + q: input rows ih0 = 2 hb and ih0 + 1 (HB = ceil(H/2)),
// 8 columns iw = 8q + i each. Column residue r = i % 2 holds iw = 8q + r + 2j; tap kw contributes
// to residue r iff (r + pW - kw) is even: kw = k0 and k0 + 2 with k0 = (r + pW) % 2, reading dy
// columns b_r + 1 + j and b_r + j, b_r = (r + pW - k0)/2 + 4q - 1, and b_1 - b_0 = pW % 2, so one
// window dy[b_0 .. b_0 + 5] serves both residues. The loop runs over the dy rows oh that reach
// either input row; each window is loaded once for both rows.
fn bi_row(o: i32, kk: i32, v0: vec4f, v1: vec4f, v2: vec4f, odd: bool, a: ptr<function, array<vec4f, 2>>) {
  // kernel row offset kk = ih + pH - oh * sH; contributes iff it is a multiple of dH below KH*dH
  if (kk < 0 || kk % p.dH != 0 || kk / p.dH >= p.KH) { return; }
  let w = wrow_b(o, kk / p.dH);
  // residue 0: w[k00] * v1 + w[k00 + 2] * v0; residue 1 (k0 = 1 - k00, window shifted by pW % 2)
  (*a)[0] += select(w.x, w.y, odd) * v1 + select(w.z, w.w, odd) * v0;
  (*a)[1] += select(w.y, w.x, odd) * select(v1, v2, odd) + select(w.w, w.z, odd) * select(v0, v1, odd);
}

fn store_bi2(base: i32, lim: i32, a: array<vec4f, 2>) {
  bout[base] = a[0].x;
  if (lim > 1) { bout[base + 1] = a[1].x; }
  if (lim > 2) { bout[base + 2] = a[0].y; }
  if (lim > 3) { bout[base + 3] = a[1].y; }
  if (lim > 4) { bout[base + 4] = a[0].z; }
  if (lim > 5) { bout[base + 5] = a[1].z; }
  if (lim > 6) { bout[base + 6] = a[0].w; }
  if (lim > 7) { bout[base + 7] = a[1].w; }
}

@compute @workgroup_size(64)
fn dw_backward_input_s2(@builtin(global_invocation_id) gid: vec3u, @builtin(num_workgroups) nwg: vec3u) {
  var t = flat(gid, nwg);
  if (t >= p.total) { return; }
  let q = t % p.XB; t = t / p.XB;
  let HB = (p.H + 1) / 2;
  let hb = t % HB; t = t / HB;
  let c = t % p.C;
  let n = t / p.C;
  let ih0 = 2 * hb;
  let odd = (p.pW % 2) == 1;
  let b = (p.pW - p.pW % 2) / 2 + 4 * q - 1;
  // dy rows oh with oh * sH in [ih0 + pH - (KH-1)*dH, ih0 + 1 + pH]
  let lo = ih0 + p.pH - (p.KH - 1) * p.dH;
  let ohLo = select(0, (lo + p.sH - 1) / p.sH, lo > 0);
  let ohHi = min(p.OH - 1, (ih0 + 1 + p.pH) / p.sH);
  var a: array<vec4f, 2>;   // row ih0: residues 0, 1
  var e: array<vec4f, 2>;   // row ih0 + 1
  for (var oh = ohLo; oh <= ohHi; oh++) {
    let kk = ih0 + p.pH - oh * p.sH;
    for (var m = 0; m < p.Og; m++) {
      let o = c * p.Og + m;
      let row = ((n * p.O + o) * p.OH + oh) * p.OW;
      let y0 = ldy(row, b); let y1 = ldy(row, b + 1); let y2 = ldy(row, b + 2);
      let y3 = ldy(row, b + 3); let y4 = ldy(row, b + 4); let y5 = ldy(row, b + 5);
      let v0 = vec4f(y0, y1, y2, y3);
      let v1 = vec4f(y1, y2, y3, y4);
      let v2 = vec4f(y2, y3, y4, y5);
      bi_row(o, kk, v0, v1, v2, odd, &a);
      bi_row(o, kk + 1, v0, v1, v2, odd, &e);
    }
  }
  let base = ((n * p.C + c) * p.H + ih0) * p.W + 8 * q;
  let lim = p.W - 8 * q;
  store_bi2(base, lim, a);
  if (ih0 + 1 < p.H) { store_bi2(base + p.W, lim, e); }
}

// ------------------------------------------------------------------------------------------------
// backward_weight: dw[o, 0, kh, kw] = sum_{n, oh, ow} dy[n, o, oh, ow] * x[n, o / Og, ih, iw],
// ih = oh*sH - pH + kh*dH, iw = ow*sW - pW + kw. t = (s * O + o) * KH + kh; chunk s covers the
// output rows [s * extra, (s + 1) * extra) of the N * OH rows. Writes bout[s * O*KH*KW + widx].
fn store_bw(s: i32, o: i32, kh: i32, a: vec4f) {
  let base = s * p.O * p.KH * p.KW + (o * p.KH + kh) * p.KW;
  bout[base] = a.x;
  if (p.KW > 1) { bout[base + 1] = a.y; }
  if (p.KW > 2) { bout[base + 2] = a.z; }
  if (p.KW > 3) { bout[base + 3] = a.w; }
}

// Taps 0..3 of one kernel row: dy columns ow0 .. ow0+3 (d) against the x window from xrow.
fn bw_row(xrow: i32, ow0: i32, d: vec4f) -> vec4f {
  var a = vec4f(0.0);
  if (STRIDE2) {
    let iw0 = 2 * ow0 - p.pW;
    let e0 = ldbx(xrow, iw0); let e1 = ldbx(xrow, iw0 + 2); let e2 = ldbx(xrow, iw0 + 4);
    let e3 = ldbx(xrow, iw0 + 6); let e4 = ldbx(xrow, iw0 + 8);
    let o0 = ldbx(xrow, iw0 + 1); let o1 = ldbx(xrow, iw0 + 3); let o2 = ldbx(xrow, iw0 + 5);
    let o3 = ldbx(xrow, iw0 + 7);
    a.x = dot(d, vec4f(e0, e1, e2, e3));
    a.y = dot(d, vec4f(o0, o1, o2, o3));
    a.z = dot(d, vec4f(e1, e2, e3, e4));
    if (p.KW > 3) { a.w = dot(d, vec4f(o1, o2, o3, ldbx(xrow, iw0 + 9))); }
  } else {
    let iw0 = ow0 - p.pW;
    let x0 = ldbx(xrow, iw0); let x1 = ldbx(xrow, iw0 + 1); let x2 = ldbx(xrow, iw0 + 2);
    let x3 = ldbx(xrow, iw0 + 3); let x4 = ldbx(xrow, iw0 + 4); let x5 = ldbx(xrow, iw0 + 5);
    a.x = dot(d, vec4f(x0, x1, x2, x3));
    a.y = dot(d, vec4f(x1, x2, x3, x4));
    a.z = dot(d, vec4f(x2, x3, x4, x5));
    if (p.KW > 3) { a.w = dot(d, vec4f(x3, x4, x5, ldbx(xrow, iw0 + 6))); }
  }
  return a;
}

@compute @workgroup_size(64)
fn dw_backward_weight(@builtin(global_invocation_id) gid: vec3u, @builtin(num_workgroups) nwg: vec3u) {
  var t = flat(gid, nwg);
  if (t >= p.total) { return; }
  let kh = t % p.KH; t = t / p.KH;
  let o = t % p.O;
  let s = t / p.O;
  let c = o / p.Og;
  let r0 = s * p.extra;
  let r1 = min(p.N * p.OH, r0 + p.extra);
  var a = vec4f(0.0);
  for (var rr = r0; rr < r1; rr++) {
    let n = rr / p.OH;
    let oh = rr - n * p.OH;
    let ih = oh * p.sH - p.pH + kh * p.dH;
    if (ih < 0 || ih >= p.H) { continue; }
    let yrow = ((n * p.O + o) * p.OH + oh) * p.OW;
    let xrow = ((n * p.C + c) * p.H + ih) * p.W;
    for (var ow0 = 0; ow0 < p.OW; ow0 += 4) {
      let d = vec4f(ldy(yrow, ow0), ldy(yrow, ow0 + 1), ldy(yrow, ow0 + 2), ldy(yrow, ow0 + 3));
      a += bw_row(xrow, ow0, d);
    }
  }
  store_bw(s, o, kh, a);
}
