/**
 * The simulator's dense layers on the WebAssembly SIMD GEMM (wasm-gemm.ts `dense`): one-group convs (pointwise,
 * stride-1 KxK with columns built in the module, strided KxK with a JS im2col) and linear layers, with the bias, a
 * fused Conv+Add's add input and the requantization inside. The same integers as conv2dAccumulate / linearAccumulate
 * + requantizeHorizon (tests/sim-dense-fast.test.ts, tests/sim-fused-conv.test.ts).
 */
import { assertIntArray, type IntArray } from './int/requant.ts';
import { wasmGemm, type ColumnFill, type WasmRequant } from './wasm-gemm.ts';
import type { FastConvGeometry } from './fast-conv.ts';

/**
 * The GEMM columns of a pointwise conv (or a linear layer, P = 1): x[n, k, p] itself, no im2col. With 8 pixels or
 * more per image, the input itself: WasmGemm.dense interleaves its channel pairs in WebAssembly.
 */
export function pointwiseColumns(x: Int8Array | Uint8Array | Int16Array, K: number, P: number): ColumnFill | Int8Array | Uint8Array | Int16Array {
  if (P >= 8) return x;
  return (x2, n0, t, stride) => {
    for (let k = 0; k < K; k++) {
      const row = (k >> 1) * stride * 2 + (k & 1);
      for (let j = 0; j < t; j++) {
        const src = ((n0 + j) * K + k) * P;
        for (let p = 0, d = row + j * P * 2; p < P; p++, d += 2) x2[d] = x[src + p];
      }
    }
  };
}

/** The GEMM columns of a one-group conv: im2col, k = (i·KH + ky)·KW + kx, zeros in the padding. */
function im2colColumns(x: Int8Array | Uint8Array | Int16Array, C: number, H: number, W: number, KH: number, KW: number, OH: number, OW: number,
  sh: number, sw: number, ph: number, pw: number, dh: number, dw: number): ColumnFill {
  const P = OH * OW, HW = H * W;
  return (x2, n0, t, stride) => {
    for (let i = 0; i < C; i++) {
      for (let ky = 0; ky < KH; ky++) {
        const offY = ky * dh - ph;
        for (let kx = 0; kx < KW; kx++) {
          const k = (i * KH + ky) * KW + kx;
          const offX = kx * dw - pw;
          // the output columns whose input column ix = ox·sw + offX is inside the image
          const oxMin = Math.min(OW, Math.max(0, Math.ceil(-offX / sw))) | 0;
          const oxMax = Math.min(OW, Math.max(0, Math.floor((W - 1 - offX) / sw) + 1)) | 0;
          const row = (k >> 1) * stride * 2 + (k & 1);
          for (let j = 0; j < t; j++) {
            const xb = ((n0 + j) * C + i) * HW;
            let d = row + j * P * 2;
            for (let oy = 0; oy < OH; oy++) {
              const iy = oy * sh + offY;
              if (iy < 0 || iy >= H) {
                for (let ox = 0; ox < OW; ox++, d += 2) x2[d] = 0;
                continue;
              }
              const src = xb + iy * W + offX;
              let ox = 0;
              for (; ox < oxMin; ox++, d += 2) x2[d] = 0;
              for (let ix = src + ox * sw; ox < oxMax; ox++, d += 2, ix += sw) x2[d] = x[ix];
              for (; ox < OW; ox++, d += 2) x2[d] = 0;
            }
          }
        }
      }
    }
  };
}

/**
 * A one-group conv that is neither pointwise nor depthwise (3x3 and strided convs, stems), on the SIMD GEMM with im2col
 * columns, the bias, a fused Conv+Add's add input and the requantization inside (rq null: the int32 sums). Returns
 * null where it does not apply (no SIMD, an int32 input, groups > 1): the caller takes conv2dAccFast. The same integers
 * as conv2dAccumulate + (add) + requantizeHorizon.
 */
export function conv2dDenseFast(
  x: IntArray, xShape: readonly number[], w: Int8Array, wShape: readonly number[], bias: Int32Array | null, geom: FastConvGeometry,
  rq: WasmRequant | null, add?: { a: IntArray; multiplier: Int32Array; shift: Int32Array },
): { data: Int8Array | Int16Array | Int32Array; shape: [number, number, number, number] } | null {
  if (x instanceof Int32Array || (add && (add.a instanceof Int32Array || !rq)) || geom.groups !== 1) return null;
  assertIntArray('conv2d x', x);
  const simd = wasmGemm();
  if (!simd) return null;
  const [N, C, H, W] = xShape;
  const [O, I, KH, KW] = wShape;
  if (I !== C || x.length !== N * C * H * W || w.length !== O * I * KH * KW) return null;
  const [sh, sw] = geom.stride;
  const [ph, pw] = geom.padding;
  const [dh, dw] = geom.dilation;
  const OH = Math.floor((H + 2 * ph - dh * (KH - 1) - 1) / sh) + 1;
  const OW = Math.floor((W + 2 * pw - dw * (KW - 1) - 1) / sw) + 1;
  if (OH <= 0 || OW <= 0) return null;
  const P = OH * OW;
  if (add && add.a.length !== N * O * P) return null;
  const a = add as { a: Int8Array | Uint8Array | Int16Array; multiplier: Int32Array; shift: Int32Array } | undefined;
  const pointwise = KH === 1 && KW === 1 && sh === 1 && sw === 1 && ph === 0 && pw === 0;
  const shape: [number, number, number, number] = [N, O, OH, OW];
  if (pointwise) return { data: simd.dense(N, P, C, pointwiseColumns(x, C, P), w, O, bias, rq, a), shape };
  if (sh === 1 && sw === 1) {
    const Ce = (C + 1) & ~1;
    const cols = { x: x as Int8Array | Uint8Array | Int16Array, C, H, W, KH, KW, OH, OW, ph, pw, dh, dw };
    return { data: simd.dense(N, P, KH * KW * Ce, cols, tapMajor(w, O, C, KH * KW), O, bias, rq, a), shape };
  }
  return { data: simd.dense(N, P, C * KH * KW, im2colColumns(x, C, H, W, KH, KW, OH, OW, sh, sw, ph, pw, dh, dw), w, O, bias, rq, a), shape };
}

/** OIHW weights reordered to [O][tap][Ce] (Ce = C rounded up to even, zeros in channel C): the stride-1 columns' k order. */
const tapMajorCache = new WeakMap<Int8Array, Int8Array>();
function tapMajor(w: Int8Array, O: number, C: number, T: number): Int8Array {
  const hit = tapMajorCache.get(w);
  if (hit) return hit;
  const Ce = (C + 1) & ~1;
  const wp = new Int8Array(O * T * Ce);
  for (let o = 0; o < O; o++) for (let i = 0; i < C; i++) for (let t = 0; t < T; t++) wp[(o * T + t) * Ce + i] = w[(o * C + i) * T + t];
  tapMajorCache.set(w, wp);
  return wp;
}

/** A linear layer on the SIMD GEMM (the batch as the pixels), requantized (rq null: the int32 sums); null without SIMD. */
export function linearDenseFast(x: IntArray, N: number, K: number, w: Int8Array, O: number, bias: Int32Array | null, rq: WasmRequant | null): Int8Array | Int16Array | Int32Array | null {
  if (x instanceof Int32Array) return null;
  assertIntArray('linear x', x);
  const simd = wasmGemm();
  if (!simd || x.length !== N * K || w.length !== O * K) return null;
  return simd.dense(N, 1, K, pointwiseColumns(x, K, 1), w, O, bias, rq);
}

