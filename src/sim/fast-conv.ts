/**
 * The simulator's fast integer conv2d accumulator: the same int32 result as conv2dAccumulate (src/sim/int/conv2d.ts,
 * the tested reference). With WebAssembly SIMD (wasm-gemm.ts): im2col + an int16 GEMM, or a per-tap axpy for
 * depthwise convs. Without it (JS): im2col + a blocked integer dot product (tight Int32Array x Int8Array loops with
 * hoisted index math, SWAR where the sums are small), or a direct per-tap loop for one input channel per output.
 *
 *   acc[n,o,p] = bias[o] + Σ_k w[o,k] · col[p,k]         col[p,k] = x[n, g·I + i, iy, ix] − x_zp (0 in the padding)
 *
 * with k = (i·KH + ky)·KW + kx (the OIHW weight layout), p = oy·OW + ox. Products are int8 × int8/int16
 * (|·| < 2^23) and every partial sum is wrapped to int32 with `| 0`, so the result is the int32 wrap-around sum
 * whatever the order (addition modulo 2^32 is associative): bit-identical to the reference.
 * Integer-only: inputs are checked with assertIntArray.
 */
import { assertIntArray, type IntArray } from './int/requant.ts';
import { wasmGemm, type WasmGemm, type WasmRequant } from './wasm-gemm.ts';
import { pointwiseColumns } from './fast-dense.ts';

export { conv2dDenseFast, linearDenseFast } from './fast-dense.ts';

export interface FastConvGeometry {
  stride: readonly [number, number];
  padding: readonly [number, number];
  dilation: readonly [number, number];
  groups: number;
}

let colBuf = new Int32Array(0);
function colBuffer(n: number): Int32Array {
  if (colBuf.length < n) colBuf = new Int32Array(n);
  return colBuf;
}

/** int32 accumulators [N, O, OH, OW] of an NCHW conv with OIHW int8 weights and an int32 bias. */
export function conv2dAccFast(
  x: IntArray,
  xShape: readonly number[],
  xZeroPoint: number,
  w: Int8Array,
  wShape: readonly number[],
  bias: Int32Array | null,
  geom: FastConvGeometry,
): { acc: Int32Array; shape: [number, number, number, number] } {
  assertIntArray('conv2d x', x);
  assertIntArray('conv2d w', w);
  if (bias) assertIntArray('conv2d bias', bias);
  const [N, C, H, W] = xShape;
  const [O, I, KH, KW] = wShape;
  const G = geom.groups;
  if (C % G !== 0 || O % G !== 0 || I !== C / G) throw new RangeError(`conv2d: C=${C}, O=${O}, I=${I} incompatible with groups=${G}`);
  if (x.length !== N * C * H * W) throw new RangeError('conv2d: x length != product of xShape');
  if (w.length !== O * I * KH * KW) throw new RangeError('conv2d: w length != product of wShape');
  const [sh, sw] = geom.stride;
  const [ph, pw] = geom.padding;
  const [dh, dw] = geom.dilation;
  const OH = Math.floor((H + 2 * ph - dh * (KH - 1) - 1) / sh) + 1;
  const OW = Math.floor((W + 2 * pw - dw * (KW - 1) - 1) / sw) + 1;
  if (OH <= 0 || OW <= 0) throw new RangeError('conv2d: empty output');
  const P = OH * OW;
  const K = I * KH * KW;
  const HW = H * W;
  const opg = O / G;
  const acc = new Int32Array(N * O * P);
  // Kernel choice: wasm SIMD (depthwise axpy or GEMM) when available, else the JS kernels below.
  if (I === 1 && opg === 1) {
    const dws = x instanceof Int32Array || xZeroPoint !== 0 ? null : wasmGemm();
    if (dws) {
      dws.depthwise(x as Int8Array | Uint8Array | Int16Array, N, C, H, W, w, KH, KW, bias, sh, sw, ph, pw, dh, dw, OH, OW, acc);
      return { acc, shape: [N, O, OH, OW] };
    }
    directSingleInput(x, xZeroPoint, w, bias, acc, N, C, H, W, O, KH, KW, OH, OW, sh, sw, ph, pw, dh, dw, opg);
    return { acc, shape: [N, O, OH, OW] };
  }
  const simd = x instanceof Int32Array || xZeroPoint !== 0 ? null : wasmGemm();
  if (simd) {
    gemmConv(simd, x, w, bias, acc, N, C, H, W, O, I, KH, KW, OH, OW, sh, sw, ph, pw, dh, dw, G);
    return { acc, shape: [N, O, OH, OW] };
  }
  const col = colBuffer(P * K);
  // SWAR path: two pixels packed in one exact integer (see dotSwar) when no partial sum can reach 2^24.
  const maxAbsX = x instanceof Int8Array ? 128 : x instanceof Uint8Array ? 255 : x instanceof Int16Array ? 32768 : 2 ** 31;
  const swar = xZeroPoint === 0 && K * maxAbsX * 128 < SWAR_LIMIT;
  const pointwise = KH === 1 && KW === 1 && sh === 1 && sw === 1 && ph === 0 && pw === 0;
  for (let n = 0; n < N; n++) {
    for (let g = 0; g < G; g++) {
      im2col(x, xZeroPoint, (n * C + g * I) * HW, col, K, I, H, W, KH, KW, OH, OW, sh, sw, ph, pw, dh, dw, pointwise);
      const o0 = g * opg;
      const o1 = o0 + opg;
      if (swar) dotSwar(col, w, bias, acc, n * O, o0, o1, P, K);
      else dotPlain(col, w, bias, acc, n * O, o0, o1, P, K);
    }
  }
  return { acc, shape: [N, O, OH, OW] };
}

/**
 * conv2d with the horizon requantization fused (and a fused Conv+Add's rescaled add input), for the two layer kinds
 * that dominate small MobileNets, on the WebAssembly SIMD kernels: pointwise (1x1, stride 1, no padding, one
 * group: a channel-major GEMM, 4 output channels x 8 pixels per register block, no im2col) and depthwise (every tap
 * in registers). The int32 accumulators never leave the module's memory. Returns null where it does not apply
 * (no SIMD, int32 or zero-pointed input, another conv shape, a depthwise conv with an add input): the caller then
 * takes conv2dAccFast + requantization. The same integers as conv2dAccumulate + (add) + requantizeHorizon.
 */
export function conv2dRequantFast(
  x: IntArray,
  xShape: readonly number[],
  w: Int8Array,
  wShape: readonly number[],
  bias: Int32Array | null,
  geom: FastConvGeometry,
  rq: WasmRequant,
  add?: { a: IntArray; multiplier: Int32Array; shift: Int32Array },
): { data: Int8Array | Int16Array; shape: [number, number, number, number] } | null {
  if (x instanceof Int32Array || (add && add.a instanceof Int32Array)) return null;
  assertIntArray('conv2d x', x);
  const simd = wasmGemm();
  if (!simd) return null;
  const [N, C, H, W] = xShape;
  const [O, I, KH, KW] = wShape;
  const G = geom.groups;
  if (C % G !== 0 || O % G !== 0 || I !== C / G || x.length !== N * C * H * W || w.length !== O * I * KH * KW) return null;
  const [sh, sw] = geom.stride;
  const [ph, pw] = geom.padding;
  const [dh, dw] = geom.dilation;
  const OH = Math.floor((H + 2 * ph - dh * (KH - 1) - 1) / sh) + 1;
  const OW = Math.floor((W + 2 * pw - dw * (KW - 1) - 1) / sw) + 1;
  if (OH <= 0 || OW <= 0) return null;
  const shape: [number, number, number, number] = [N, O, OH, OW];
  if (add && add.a.length !== N * O * OH * OW) return null;
  const a = add as { a: Int8Array | Uint8Array | Int16Array; multiplier: Int32Array; shift: Int32Array } | undefined;
  if (G === 1 && KH === 1 && KW === 1 && sh === 1 && sw === 1 && ph === 0 && pw === 0) {
    return { data: simd.dense(N, H * W, C, pointwiseColumns(x, C, H * W), w, O, bias, rq, a) as Int8Array | Int16Array, shape };
  }
  if (I === 1 && O === C && !add) {
    return { data: simd.depthwiseRq(x, N, C, H, W, w, KH, KW, bias, sh, sw, ph, pw, dh, dw, OH, OW, rq), shape };
  }
  return null;
}

/** col[p·stride + k] = x[g-th input channel block, iy, ix] − zp, 0 in the padding; k = (i·KH + ky)·KW + kx. */
function im2col(
  x: IntArray, zp: number, xg: number, col: Int32Array | Int16Array, stride: number, I: number, H: number, W: number,
  KH: number, KW: number, OH: number, OW: number, sh: number, sw: number, ph: number, pw: number, dh: number, dw: number,
  pointwise: boolean,
): void {
  const HW = H * W;
  const P = OH * OW;
  if (pointwise) {
    for (let i = 0; i < I; i++) {
      const xb = xg + i * HW;
      for (let p = 0, c = i; p < P; p++, c += stride) col[c] = x[xb + p] - zp;
    }
    return;
  }
  for (let i = 0; i < I; i++) {
    const xb = xg + i * HW;
    for (let ky = 0; ky < KH; ky++) {
      for (let kx = 0; kx < KW; kx++) {
        const k = (i * KH + ky) * KW + kx;
        const offY = ky * dh - ph;
        const offX = kx * dw - pw;
        for (let oy = 0; oy < OH; oy++) {
          const iy = oy * sh + offY;
          let c = oy * OW * stride + k;
          if (iy < 0 || iy >= H) {
            for (let ox = 0; ox < OW; ox++, c += stride) col[c] = 0;
            continue;
          }
          const row = xb + iy * W;
          for (let ox = 0, ix = offX; ox < OW; ox++, c += stride, ix += sw) {
            col[c] = ix < 0 || ix >= W ? 0 : x[row + ix] - zp;
          }
        }
      }
    }
  }
}

/**
 * The WebAssembly SIMD path (wasm-gemm.ts): im2col into int16 rows of Kp = K rounded up to 8 (zero-padded), the
 * group's weights widened to int16 (rows padded to a multiple of 4 with zeros), one GEMM per image and group, then the bias
 * added with int32 wrap-around. Bit-identical to the reference (all sums modulo 2^32).
 */
function gemmConv(
  simd: WasmGemm, x: IntArray, w: Int8Array, bias: Int32Array | null, acc: Int32Array,
  N: number, C: number, H: number, W: number, O: number, I: number, KH: number, KW: number, OH: number, OW: number,
  sh: number, sw: number, ph: number, pw: number, dh: number, dw: number, G: number,
): void {
  const P = OH * OW;
  const K = I * KH * KW;
  const Kp = (K + 7) & ~7;
  const opg = O / G;
  const Oe = (opg + 3) & ~3; // the kernel computes 4 output channels per pass; extra rows have zero weights
  const pointwise = KH === 1 && KW === 1 && sh === 1 && sw === 1 && ph === 0 && pw === 0;
  const HW = H * W;
  for (let g = 0; g < G; g++) {
    const buf = simd.reserve(Oe * Kp * 2, P * Kp * 2, Oe * P * 4);
    buf.w.fill(0);
    for (let o = 0; o < opg; o++) {
      const src = (g * opg + o) * K;
      const dst = o * Kp;
      for (let k = 0; k < K; k++) buf.w[dst + k] = w[src + k];
    }
    if (Kp !== K) buf.c.fill(0);
    for (let n = 0; n < N; n++) {
      im2col(x, 0, (n * C + g * I) * HW, buf.c, Kp, I, H, W, KH, KW, OH, OW, sh, sw, ph, pw, dh, dw, pointwise);
      simd.run(Oe, P, Kp);
      const out = buf.out;
      for (let o = 0; o < opg; o++) {
        const oc = g * opg + o;
        const b = bias ? bias[oc] : 0;
        const dst = (n * O + oc) * P;
        for (let p = 0, q = o; p < P; p++, q += Oe) acc[dst + p] = (out[q] + b) | 0; // out is pixel-major [P][Oe]
      }
    }
  }
}

/**
 * One input channel per output channel (depthwise, or a conv on a 1-channel image): no im2col; each weight tap is
 * an axpy over the valid output rows, acc[o, oy, ox] += w · (x[iy, ix] − zp), int32 wrap after each product.
 */
function directSingleInput(
  x: IntArray, zp: number, w: Int8Array, bias: Int32Array | null, acc: Int32Array,
  N: number, C: number, H: number, W: number, O: number, KH: number, KW: number, OH: number, OW: number,
  sh: number, sw: number, ph: number, pw: number, dh: number, dw: number, opg: number,
): void {
  const P = OH * OW;
  const HW = H * W;
  for (let n = 0; n < N; n++) {
    for (let o = 0; o < O; o++) {
      const c = Math.floor(o / opg);
      const xb = (n * C + c) * HW;
      const ob = (n * O + o) * P;
      const b = bias ? bias[o] : 0;
      for (let p = ob; p < ob + P; p++) acc[p] = b;
      for (let ky = 0; ky < KH; ky++) {
        const offY = ky * dh - ph;
        const oyMin = Math.max(0, Math.ceil(-offY / sh)) | 0; // | 0: no -0 (a double) in the index math
        const oyMax = Math.min(OH - 1, Math.floor((H - 1 - offY) / sh)) | 0;
        for (let kx = 0; kx < KW; kx++) {
          const wv = w[(o * KH + ky) * KW + kx];
          if (wv === 0) continue;
          const offX = kx * dw - pw;
          const oxMin = Math.max(0, Math.ceil(-offX / sw)) | 0;
          const oxMax = Math.min(OW - 1, Math.floor((W - 1 - offX) / sw)) | 0;
          if (oxMin > oxMax) continue;
          for (let oy = oyMin; oy <= oyMax; oy++) {
            const row = xb + (oy * sh + offY) * W;
            const orow = ob + oy * OW;
            let ix = row + oxMin * sw + offX;
            if (sw === 1) {
              for (let q = orow + oxMin, e = orow + oxMax; q <= e; q++, ix++) acc[q] = (acc[q] + wv * (x[ix] - zp)) | 0;
            } else {
              for (let q = orow + oxMin, e = orow + oxMax; q <= e; q++, ix += sw) acc[q] = (acc[q] + wv * (x[ix] - zp)) | 0;
            }
          }
        }
      }
    }
  }
}

const SWAR_BASE = 33554432; // 2^25
const SWAR_LIMIT = 16777216; // 2^24

let packBuf = new Float64Array(0);

/** Plain blocked dot products: 4 output channels share each col load; int32 wrap after every product. */
function dotPlain(col: Int32Array, w: Int8Array, bias: Int32Array | null, acc: Int32Array, nO: number, o0: number, o1: number, P: number, K: number): void {
  let o = o0;
  for (; o + 4 <= o1; o += 4) {
    const wa = o * K, wb = wa + K, wc = wb + K, wd = wc + K;
    const ba = (nO + o) * P, bb = ba + P, bc = bb + P, bd = bc + P;
    const biasA = bias ? bias[o] : 0, biasB = bias ? bias[o + 1] : 0, biasC = bias ? bias[o + 2] : 0, biasD = bias ? bias[o + 3] : 0;
    for (let p = 0; p < P; p++) {
      let sa = biasA, sb = biasB, sc = biasC, sd = biasD;
      const cb = p * K;
      for (let k = 0; k < K; k++) {
        const v = col[cb + k];
        sa = (sa + w[wa + k] * v) | 0;
        sb = (sb + w[wb + k] * v) | 0;
        sc = (sc + w[wc + k] * v) | 0;
        sd = (sd + w[wd + k] * v) | 0;
      }
      acc[ba + p] = sa;
      acc[bb + p] = sb;
      acc[bc + p] = sc;
      acc[bd + p] = sd;
    }
  }
  for (; o < o1; o++) {
    const wa = o * K;
    const ba = (nO + o) * P;
    const biasA = bias ? bias[o] : 0;
    for (let p = 0; p < P; p++) {
      let sa = biasA;
      const cb = p * K;
      for (let k = 0; k < K; k++) sa = (sa + w[wa + k] * col[cb + k]) | 0;
      acc[ba + p] = sa;
    }
  }
}

/**
 * SWAR dot products ("SIMD within a register"): pixels p and p+1 are packed into one exact integer
 * c = col[p,k] + col[p+1,k]·2^25, so one multiply-add w·c computes both products. With |Σ_k w·col| < 2^24 for each
 * pixel (checked by the caller: K · max|x| · 128 < 2^24) the packed sum is an exact integer below 2^50 and splits
 * back without ambiguity: hi = round(s / 2^25), lo = s − hi·2^25. No partial sum reaches int32's range, so the
 * result equals the int32 wrap-around sum; the bias is added after, with `| 0`, as the reference does.
 * The packed operands are integers held in a Float64Array (JS numbers are doubles; every value here is an exact
 * integer < 2^53), never fractional values.
 */
function dotSwar(col: Int32Array, w: Int8Array, bias: Int32Array | null, acc: Int32Array, nO: number, o0: number, o1: number, P: number, K: number): void {
  const PP = (P + 1) >> 1;
  if (packBuf.length < PP * K) packBuf = new Float64Array(PP * K);
  const pk = packBuf;
  for (let pp = 0; pp < PP; pp++) {
    const a = 2 * pp * K, b = a + K, d = pp * K;
    if (2 * pp + 1 < P) for (let k = 0; k < K; k++) pk[d + k] = col[a + k] + col[b + k] * SWAR_BASE;
    else for (let k = 0; k < K; k++) pk[d + k] = col[a + k];
  }
  const put = (s: number, o: number, pp: number, b: number) => {
    const hi = Math.round(s / SWAR_BASE);
    const base = (nO + o) * P + 2 * pp;
    acc[base] = (s - hi * SWAR_BASE + b) | 0;
    if (2 * pp + 1 < P) acc[base + 1] = (hi + b) | 0;
  };
  let o = o0;
  for (; o + 4 <= o1; o += 4) {
    const wa = o * K, wb = wa + K, wc = wb + K, wd = wc + K;
    const biasA = bias ? bias[o] : 0, biasB = bias ? bias[o + 1] : 0, biasC = bias ? bias[o + 2] : 0, biasD = bias ? bias[o + 3] : 0;
    let pp = 0;
    for (; pp + 2 <= PP; pp += 2) {
      let sa = 0, sb = 0, sc = 0, sd = 0, ta = 0, tb = 0, tc = 0, td = 0;
      const cb = pp * K, cb2 = cb + K;
      for (let k = 0; k < K; k++) {
        const v = pk[cb + k], u = pk[cb2 + k];
        const a = w[wa + k], b = w[wb + k], c = w[wc + k], d = w[wd + k];
        sa += a * v; sb += b * v; sc += c * v; sd += d * v;
        ta += a * u; tb += b * u; tc += c * u; td += d * u;
      }
      put(sa, o, pp, biasA); put(sb, o + 1, pp, biasB); put(sc, o + 2, pp, biasC); put(sd, o + 3, pp, biasD);
      put(ta, o, pp + 1, biasA); put(tb, o + 1, pp + 1, biasB); put(tc, o + 2, pp + 1, biasC); put(td, o + 3, pp + 1, biasD);
    }
    for (; pp < PP; pp++) {
      let sa = 0, sb = 0, sc = 0, sd = 0;
      const cb = pp * K;
      for (let k = 0; k < K; k++) {
        const v = pk[cb + k];
        sa += w[wa + k] * v; sb += w[wb + k] * v; sc += w[wc + k] * v; sd += w[wd + k] * v;
      }
      put(sa, o, pp, biasA); put(sb, o + 1, pp, biasB); put(sc, o + 2, pp, biasC); put(sd, o + 3, pp, biasD);
    }
  }
  for (; o < o1; o++) {
    const wa = o * K;
    const biasA = bias ? bias[o] : 0;
    let pp = 0;
    for (; pp + 4 <= PP; pp += 4) {
      let sa = 0, sb = 0, sc = 0, sd = 0;
      const ca = pp * K, cb = ca + K, cc = cb + K, cd = cc + K;
      for (let k = 0; k < K; k++) {
        const wv = w[wa + k];
        sa += wv * pk[ca + k]; sb += wv * pk[cb + k]; sc += wv * pk[cc + k]; sd += wv * pk[cd + k];
      }
      put(sa, o, pp, biasA); put(sb, o, pp + 1, biasA); put(sc, o, pp + 2, biasA); put(sd, o, pp + 3, biasA);
    }
    for (; pp < PP; pp++) {
      let sa = 0;
      const ca = pp * K;
      for (let k = 0; k < K; k++) sa += w[wa + k] * pk[ca + k];
      put(sa, o, pp, biasA);
    }
  }
}

/** int32 accumulators [N, O] of a linear layer: acc = bias + Σ_k (x − zp)·w, wrapped to int32. */
export function linearAccFast(
  x: IntArray,
  N: number,
  K: number,
  xZeroPoint: number,
  w: Int8Array,
  O: number,
  bias: Int32Array | null,
): Int32Array {
  assertIntArray('linear x', x);
  assertIntArray('linear w', w);
  if (bias) assertIntArray('linear bias', bias);
  if (x.length !== N * K || w.length !== O * K) throw new RangeError('linear: data length != shape');
  const acc = new Int32Array(N * O);
  const xc = colBuffer(K);
  for (let n = 0; n < N; n++) {
    for (let k = 0; k < K; k++) xc[k] = x[n * K + k] - xZeroPoint;
    for (let o = 0; o < O; o++) {
      let s = bias ? bias[o] : 0;
      const wb = o * K;
      for (let k = 0; k < K; k++) s = (s + w[wb + k] * xc[k]) | 0;
      acc[n * O + o] = s;
    }
  }
  return acc;
}
