/**
 * The simulator's WebAssembly SIMD kernels (GEMM, pointwise and depthwise convs, requantization), as a typed API
 * over the module that wasm-module.ts assembles byte by byte; `wasmGemm()` returns null where WebAssembly SIMD is
 * missing and the callers fall back to the JS kernels.
 */
import { gemmModuleBytes } from './wasm-module.ts';
export interface WasmGemm {
  /** Int16 views / Int32 view of the module's memory, valid until the next `reserve`. */
  reserve(wBytes: number, cBytes: number, outBytes: number): { w: Int16Array; c: Int16Array; out: Int32Array };
  /** Runs the kernel on the reserved buffers: O (a multiple of 4) rows of weights, P column rows, Kp int16 per row. */
  run(O: number, P: number, Kp: number): void;
  /**
   * Horizon requantization, per channel (channel = floor(i / inner) % channels), to int8 or int16; the same integers
   * as requantizeHorizon.
   */
  requant(acc: Int32Array, multiplier: Int32Array, shift: Int32Array, dtype: 'int8' | 'int16', zp: number, lo: number, hi: number, channels: number, inner: number): Int8Array | Int16Array;
  /**
   * Depthwise conv of N·C planes (one input channel per output channel), int32 wrap-around sums plus bias:
   * the same integers as conv2dAccumulate.
   */
  depthwise(x: IntArray16, N: number, C: number, H: number, W: number, w: Int8Array, KH: number, KW: number, bias: Int32Array | null,
    sh: number, sw: number, ph: number, pw: number, dh: number, dw: number, OH: number, OW: number, acc: Int32Array): void;
  /**
   * A dense layer (pointwise or im2col conv with one group, linear) as channel-major GEMMs over tiles of whole
   * images: out[n, o, p] = bias[o] + Σ_k w[o,k] · col(n, k, p) (int32 wrap-around), plus the rescaled add input when
   * given (round half up of a·m[o] / 2^s[o], as mulShiftRound), then horizon requantization per output channel to
   * int8 / int16, or (rq null) the int32 sums. `fill` writes the columns of images n0 .. n0+t−1: value (k, j·P + p)
   * at x2[((k >> 1)·stride + j·P + p)·2 + (k & 1)], every k < K and p < P (zeros in the padding); or `fill` is the
   * input [N, K, P] itself (pointwise), whose channel pairs the il kernel interleaves. The same integers
   * as conv2dAccumulate / linear + requantizeHorizon.
   */
  dense(N: number, P: number, K: number, fill: ColumnFill | IntArray16 | Stride1Columns, w: Int8Array, O: number, bias: Int32Array | null, rq: WasmRequant | null,
    add?: { a: IntArray16; multiplier: Int32Array; shift: Int32Array }): Int8Array | Int16Array | Int32Array;
  /** Depthwise conv (as `depthwise`) with every tap in registers and the requantization fused. */
  depthwiseRq(x: IntArray16, N: number, C: number, H: number, W: number, w: Int8Array, KH: number, KW: number, bias: Int32Array | null,
    sh: number, sw: number, ph: number, pw: number, dh: number, dw: number, OH: number, OW: number, rq: WasmRequant): Int8Array | Int16Array;
}

/** Horizon requantization of a conv's output: per-channel (or per-tensor, length 1) multiplier and shift, clamp. */
export interface WasmRequant {
  multiplier: Int32Array;
  shift: Int32Array;
  dtype: 'int8' | 'int16';
  lo: number;
  hi: number;
}

type IntArray16 = Int8Array | Uint8Array | Int16Array;

/** Writes the GEMM columns of images n0 .. n0+t−1 into x2 (see WasmGemm.dense). */
export type ColumnFill = (x2: Int16Array, n0: number, t: number, stride: number) => void;

/**
 * The columns of a stride-1 conv, built in WebAssembly from the input [N, C, H, W]: k = tap·Ce + i (tap-major, Ce = C
 * rounded up to even, so that each int16 pair is two channels of one tap; channel C of an odd C is zero), tap =
 * ky·KW + kx. The weights passed with it must be in that order ([O][taps][Ce]).
 */
export interface Stride1Columns {
  x: IntArray16;
  C: number; H: number; W: number; KH: number; KW: number; OH: number; OW: number; ph: number; pw: number; dh: number; dw: number;
}

/** Columns per GEMM tile: the tile's input (KP·cols·4 bytes) stays within 256 KiB, a typical L2 share. */
const TILE_BYTES = 256 * 1024;

/** a·m / 2^s rounded half up, for |a| <= 2^15 and 0 <= m < 2^31 (a·m is an exact double): mulShiftRound's fast path. */
function rescaleAdd(out: Int32Array, o0: number, a: IntArray16, a0: number, n: number, m: number, s: number): void {
  const d = 2 ** s, inv = 1 / d, half = s === 0 ? 1 : d / 2;
  for (let p = 0; p < n; p++) {
    const v = a[a0 + p] * m;
    const q = Math.floor(v * inv);
    out[o0 + p] = (out[o0 + p] + (v - q * d >= half ? q + 1 : q)) | 0;
  }
}

/**
 * Weights of the pw kernel, int16 pairs interleaved by 4 output channels: w4[((o/4)·KP + kp)·4 + o%4] =
 * (w[o,2kp], w[o,2kp+1]), zero past O and K. Packed once per weight tensor (a model's weights do not change).
 */
const packCache = new WeakMap<Int8Array, Int16Array>();
function packedWeights(w: Int8Array, O: number, K: number): Int16Array {
  const hit = packCache.get(w);
  if (hit) return hit;
  const Oe = (O + 3) & ~3, KP = (K + 1) >> 1;
  const w4 = new Int16Array(Oe * KP * 2);
  for (let o = 0; o < O; o++) {
    const base = ((o >> 2) * KP * 4 + (o & 3)) * 2;
    for (let k = 0; k < K; k++) w4[base + (k >> 1) * 8 + (k & 1)] = w[o * K + k];
  }
  packCache.set(w, w4);
  return w4;
}

let instance: WasmGemm | null | undefined;
let enabled = true;

/** Turns the SIMD path on or off (tests compare it with the JS kernels). */
export function useWasmGemm(on: boolean): void {
  enabled = on;
}

/** The SIMD GEMM, or null where WebAssembly SIMD is not available (or QS_SIM_NO_WASM=1 in Node, or turned off). */
export function wasmGemm(): WasmGemm | null {
  if (!enabled) return null;
  if (instance !== undefined) return instance;
  instance = null;
  try {
    const env = (globalThis as { process?: { env?: Record<string, string | undefined> } }).process?.env;
    if (env?.QS_SIM_NO_WASM === '1') return null;
    if (typeof WebAssembly === 'undefined') return null;
    const bytes = gemmModuleBytes();
    if (!WebAssembly.validate(bytes)) return null;
    const mem = new WebAssembly.Memory({ initial: 16 });
    const inst = new WebAssembly.Instance(new WebAssembly.Module(bytes), { env: { mem } });
    const gemm = inst.exports.gemm as (w: number, c: number, out: number, O: number, P: number, kb: number) => void;
    type Rq = (acc: number, out: number, n: number, m: number, s: number, zp: number, lo: number, hi: number) => void;
    const rq8 = inst.exports.rq8 as Rq, rq16 = inst.exports.rq16 as Rq;
    const axpy = inst.exports.axpy as (dst: number, src: number, w: number, rows: number, n: number, ss: number, ds: number) => void;
    const pwk = inst.exports.pw as (x2: number, w4: number, out: number, bias: number, Oe: number, Pp: number, KP: number) => void;
    const dwk = inst.exports.dw as (dst: number, src: number, rows: number, nblk: number, ss: number, ds: number, taps: number, nt: number, bias: number) => void;
    type Rqs = (src: number, dst: number, rows: number, len: number, ss: number, ds: number, mp: number, sp: number, step: number, lo: number, hi: number) => void;
    const rqs8 = inst.exports.rqs8 as Rqs, rqs16 = inst.exports.rqs16 as Rqs;
    // data movers (wasm-pack.ts), by element type of the layer's input
    type Wd = (src: number, dst: number, rows: number, n: number, ss: number, ds: number) => void;
    type Il = (a: number, b: number, dst: number, rows: number, n: number, ss: number, ds: number) => void;
    const kindOf = (x: IntArray16) => (x instanceof Int8Array ? '8' : x instanceof Uint8Array ? '8u' : '16');
    const wdOf = (x: IntArray16) => inst.exports[`wd${kindOf(x)}`] as Wd;
    const ilOf = (x: IntArray16) => inst.exports[`il${kindOf(x)}`] as Il;
    /** Copies a layer input into the module's memory at `off` (a native copy of its bytes). */
    const putInput = (x: IntArray16, off: number) => {
      new (x.constructor as new (b: ArrayBuffer, o: number, n: number) => IntArray16)(mem.buffer, off, x.length).set(x);
    };
    const ensure = (need: number) => {
      if (need > mem.buffer.byteLength) mem.grow(Math.ceil((need - mem.buffer.byteLength) / 65536));
    };
    /** Per-channel multiplier / shift words at mOff / sOff (a per-tensor spec expanded to `channels`). */
    const putRequant = (rq: WasmRequant, channels: number, mOff: number, sOff: number) => {
      const m = new Int32Array(mem.buffer, mOff, channels), sh = new Int32Array(mem.buffer, sOff, channels);
      const per = rq.multiplier.length === 1;
      for (let c = 0; c < channels; c++) {
        m[c] = rq.multiplier[per ? 0 : c];
        sh[c] = rq.shift[per ? 0 : c];
      }
    };
    const result = (rq: WasmRequant, off: number, n: number) =>
      rq.dtype === 'int8' ? new Int8Array(mem.buffer, off, n).slice() : new Int16Array(mem.buffer, off, n).slice();
    let wOff = 0, cOff = 0, oOff = 0;
    const align = (n: number) => Math.ceil(n / 64) * 64;
    instance = {
      reserve(wBytes, cBytes, outBytes) {
        wOff = 64;
        cOff = wOff + align(wBytes);
        oOff = cOff + align(cBytes);
        const need = oOff + align(outBytes);
        if (need > mem.buffer.byteLength) mem.grow(Math.ceil((need - mem.buffer.byteLength) / 65536));
        return {
          w: new Int16Array(mem.buffer, wOff, wBytes / 2),
          c: new Int16Array(mem.buffer, cOff, cBytes / 2),
          out: new Int32Array(mem.buffer, oOff, outBytes / 4),
        };
      },
      run(O, P, Kp) {
        gemm(wOff, cOff, oOff, O, P, Kp * 2);
      },
      depthwise(x, N, C, H, W, w, KH, KW, bias, sh, sw, ph, pw, dh, dw, OH, OW, acc) {
        // Per channel, the N images' planes stacked into one tall, zero-padded, phase-split int16 image: phase j
        // holds padded columns j, j+sw, ... (so the taps of 8 neighbouring outputs are 8 contiguous int16 for any
        // stride), each image takes Hq = Hp rounded up to a multiple of sh rows, so output row r of the stack reads
        // input rows r·sh + ky·dh for every image alike (rows oy >= OH of each image are computed and dropped).
        // Then one axpy call per tap covers all N images.
        const Hp = H + 2 * ph, Wp = W + 2 * pw;
        const Hq = Math.ceil(Hp / sh) * sh;
        const RO = Hq / sh; // output rows per image in the stack
        const OWp = (OW + 7) & ~7;
        const PW = (Math.ceil(Wp / sw) + Math.floor(((KW - 1) * dw) / sw) + OWp + 8) & ~7;
        const rowsIn = N * Hq + (KH - 1) * dh + sh;
        const phase = rowsIn * PW;
        const xOff = 64, oOff = xOff + align(sw * phase * 2 + 64);
        const need = oOff + align(N * RO * OWp * 4);
        if (need > mem.buffer.byteLength) mem.grow(Math.ceil((need - mem.buffer.byteLength) / 65536));
        const xs = new Int16Array(mem.buffer, xOff, sw * phase);
        const out = new Int32Array(mem.buffer, oOff, N * RO * OWp);
        const P = OH * OW;
        for (let c = 0; c < C; c++) {
          xs.fill(0);
          for (let n = 0; n < N; n++) {
            const xb = (n * C + c) * H * W;
            for (let y = 0; y < H; y++) {
              const rowOff = (n * Hq + y + ph) * PW;
              const src = xb + y * W;
              // padded column col = xx + pw goes to phase col % sw, position floor(col / sw)
              for (let j = 0; j < sw; j++) {
                const first = (((j - pw) % sw) + sw) % sw; // the first xx with (xx + pw) % sw == j
                let d = (j * phase + rowOff + (first + pw - j) / sw) | 0; // an exact quotient; | 0 keeps the index a small integer
                for (let xx = first; xx < W; xx += sw, d++) xs[d] = x[src + xx];
              }
            }
          }
          out.fill(0);
          for (let ky = 0; ky < KH; ky++) {
            for (let kx = 0; kx < KW; kx++) {
              const wv = w[(c * KH + ky) * KW + kx];
              if (wv === 0) continue;
              const t = kx * dw;
              const src = xOff + ((t % sw) * phase + ky * dh * PW + Math.floor(t / sw)) * 2;
              axpy(oOff, src, wv, N * RO, OWp, sh * PW * 2, OWp * 4);
            }
          }
          const b = bias ? bias[c] : 0;
          for (let n = 0; n < N; n++) {
            const dst = (n * C + c) * P;
            for (let oy = 0; oy < OH; oy++) {
              const so = (n * RO + oy) * OWp, d = dst + oy * OW;
              for (let ox = 0; ox < OW; ox++) acc[d + ox] = (out[so + ox] + b) | 0;
            }
          }
        }
      },
      dense(N, P, K, fill, w, O, bias, rq, add) {
        const Oe = (O + 3) & ~3, KP = (K + 1) >> 1;
        const T = Math.max(1, Math.min(N, Math.floor(TILE_BYTES / (KP * 4) / P))); // whole images per tile
        const TW = (T * P + 7) & ~7;
        const bytes = rq ? (rq.dtype === 'int8' ? 1 : 2) : 4;
        const direct = rq !== null && P >= 8; // requantize each image's rows of P straight into the NCHW output
        const w4Off = 64;
        const bOff = w4Off + align(Oe * KP * 4);
        const mOff = bOff + align(Oe * 4), sOff = mOff + align(Oe * 4);
        const x2Off = sOff + align(Oe * 4);
        const oOff = x2Off + align(KP * TW * 4);
        const fOff = oOff + align(Oe * TW * 4);
        const tOff = fOff + align(N * O * P * bytes + 16);
        // pointwise columns of 8 pixels or more, and stride-1 conv columns: the input copied in, its channel pairs
        // interleaved by the il kernel
        const px = fill instanceof Int8Array || fill instanceof Uint8Array || fill instanceof Int16Array ? fill : null;
        const cv = typeof fill === 'object' && !px ? fill as Stride1Columns : null;
        const src = px ?? cv?.x ?? null;
        const eb = src instanceof Int16Array ? 2 : 1;
        const plane = cv ? cv.H * cv.W : P;
        const inOff = tOff + (direct ? 0 : align(O * T * P * bytes + 16));
        const zOff = inOff + align(src ? src.length * eb + 16 : 0);
        ensure(zOff + (src ? align(plane * eb + 16) : 0));
        if (src) {
          putInput(src, inOff);
          new Uint8Array(mem.buffer, zOff, plane * eb).fill(0); // the partner plane of an odd channel count
        }
        const il = src ? ilOf(src) : null;
        new Int16Array(mem.buffer, w4Off, Oe * KP * 2).set(packedWeights(w, O, K));
        const b = new Int32Array(mem.buffer, bOff, Oe);
        b.fill(0);
        if (bias) b.set(bias.subarray(0, O));
        if (rq) putRequant(rq, O, mOff, sOff);
        const out = new Int32Array(mem.buffer, oOff, Oe * TW);
        const final = rq ? null : new Int32Array(mem.buffer, fOff, N * O * P);
        const f = bytes === 1 ? rqs8 : rqs16;
        for (let n0 = 0; n0 < N; n0 += T) {
          const t = Math.min(T, N - n0), cols = t * P, stride = (cols + 7) & ~7;
          const x2 = new Int16Array(mem.buffer, x2Off, KP * stride * 2);
          if (n0 === 0 || K & 1) x2.fill(0); // the odd channel's partner (and on the first tile, the padding) stays 0
          if (cv) {
            x2.fill(0); // the padding's columns
            const { C, H, W, KH, KW, OW, ph, pw, dh, dw } = cv, CP = (C + 1) >> 1, OH = cv.OH;
            for (let ky = 0; ky < KH; ky++) {
              const offY = ky * dh - ph;
              const oy0 = Math.max(0, -offY), oy1 = Math.min(OH, H - offY);
              for (let kx = 0; kx < KW; kx++) {
                const offX = kx * dw - pw;
                const ox0 = Math.max(0, -offX), ox1 = Math.min(OW, W - offX);
                if (oy1 <= oy0 || ox1 <= ox0) continue;
                const tap = ky * KW + kx;
                for (let ip = 0; ip < CP; ip++) {
                  for (let j = 0; j < t; j++) {
                    const a = inOff + (((n0 + j) * C + 2 * ip) * H * W + (oy0 + offY) * W + ox0 + offX) * eb;
                    const b = 2 * ip + 1 < C ? a + H * W * eb : zOff + ((oy0 + offY) * W + ox0 + offX) * eb;
                    il!(a, b, x2Off + ((tap * CP + ip) * stride + j * P + oy0 * OW + ox0) * 4, oy1 - oy0, ox1 - ox0, W * eb, OW * 4);
                  }
                }
              }
            }
          } else if (il) {
            for (let kp = 0; kp < KP; kp++) {
              for (let j = 0; j < t; j++) {
                const a = inOff + ((n0 + j) * K + 2 * kp) * P * eb;
                il(a, 2 * kp + 1 < K ? a + P * eb : zOff, x2Off + (kp * stride + j * P) * 4, 1, P, 0, 0);
              }
            }
          } else (fill as ColumnFill)(x2, n0, t, stride);
          pwk(x2Off, w4Off, oOff, bOff, Oe, stride, KP);
          if (add) {
            const per = add.multiplier.length === 1;
            for (let j = 0; j < t; j++) {
              for (let o = 0; o < O; o++) rescaleAdd(out, o * stride + j * P, add.a, ((n0 + j) * O + o) * P, P, add.multiplier[per ? 0 : o], add.shift[per ? 0 : o]);
            }
          }
          if (!rq) {
            for (let j = 0; j < t; j++) {
              for (let o = 0; o < O; o++) final!.set(out.subarray(o * stride + j * P, o * stride + j * P + P), ((n0 + j) * O + o) * P);
            }
          } else if (direct) {
            for (let j = 0; j < t; j++) f(oOff + j * P * 4, fOff + (n0 + j) * O * P * bytes, O, P, stride * 4, P * bytes, mOff, sOff, 4, rq.lo, rq.hi);
          } else {
            // few pixels per image: requantize [O][cols] in one call, then move each image's block into place
            f(oOff, tOff, O, cols, stride * 4, cols * bytes, mOff, sOff, 4, rq.lo, rq.hi);
            const tmp = bytes === 1 ? new Int8Array(mem.buffer, tOff, O * cols) : new Int16Array(mem.buffer, tOff, O * cols);
            const dst = bytes === 1 ? new Int8Array(mem.buffer, fOff, N * O * P) : new Int16Array(mem.buffer, fOff, N * O * P);
            for (let j = 0; j < t; j++) {
              const base = (n0 + j) * O * P;
              for (let o = 0; o < O; o++) {
                const src = o * cols + j * P, d = base + o * P;
                for (let p = 0; p < P; p++) dst[d + p] = tmp[src + p];
              }
            }
          }
        }
        if (!rq) return new Int32Array(mem.buffer, fOff, N * O * P).slice();
        return result(rq, fOff, N * O * P);
      },
      depthwiseRq(x, N, C, H, W, w, KH, KW, bias, sh, sw, ph, pw, dh, dw, OH, OW, rq) {
        // The layout of `depthwise` (stacked, zero-padded, phase-split planes), but all taps of 8 outputs are summed
        // in registers (dw kernel) and the rows go straight through the SIMD requantization.
        const bytes = rq.dtype === 'int8' ? 1 : 2;
        const Hp = H + 2 * ph, Wp = W + 2 * pw;
        const Hq = Math.ceil(Hp / sh) * sh;
        const RO = Hq / sh;
        const OWp = (OW + 7) & ~7;
        const PW = (Math.ceil(Wp / sw) + Math.floor(((KW - 1) * dw) / sw) + OWp + 8) & ~7;
        const rowsIn = N * Hq + (KH - 1) * dh + sh;
        const phase = rowsIn * PW;
        const xOff = 64, oOff = xOff + align(sw * phase * 2 + 64);
        const tOff = oOff + align(N * RO * OWp * 4);
        const mOff = tOff + align(KH * KW * 8), sOff = mOff + align(C * 4);
        const fOff = sOff + align(C * 4);
        const P = OH * OW;
        const qOff = fOff + align(N * C * P * bytes + 16);
        const inOff = qOff + align(N * RO * OW * bytes + 16);
        const eb = x instanceof Int16Array ? 2 : 1;
        ensure(inOff + align(x.length * eb + 16));
        // stride 1: each image's rows widened into the stacked planes by the wd kernel; stride 2 with int8 / uint8
        // inputs: split into the two column phases by the sp kernel (the input copied in once)
        const wd = sw === 1 ? wdOf(x) : null;
        const sp = sw === 2 && !(x instanceof Int16Array) ? (inst.exports[x instanceof Int8Array ? 'sp8' : 'sp8u'] as Il) : null;
        if (wd || sp) putInput(x, inOff);
        const pe = pw & 1, po = (pw + 1) & 1;
        const final = bytes === 1 ? new Int8Array(mem.buffer, fOff, N * C * P) : new Int16Array(mem.buffer, fOff, N * C * P);
        const q = bytes === 1 ? new Int8Array(mem.buffer, qOff, N * RO * OW) : new Int16Array(mem.buffer, qOff, N * RO * OW);
        // taps that read only padding for every output (tiny late-layer planes: a 5x5 kernel on a 1x1 plane has one
        // live tap) add 0: skipped
        const live = (k: number, d: number, s_: number, p: number, O_: number, I_: number) => {
          for (let o = 0; o < O_; o++) if (o * s_ + k * d - p >= 0 && o * s_ + k * d - p < I_) return true;
          return false;
        };
        const rowLive = Array.from({ length: KH }, (_, ky) => live(ky, dh, sh, ph, OH, H));
        const colLive = Array.from({ length: KW }, (_, kx) => live(kx, dw, sw, pw, OW, W));
        const xs = new Int16Array(mem.buffer, xOff, sw * phase);
        const taps = new Int32Array(mem.buffer, tOff, KH * KW * 2);
        putRequant(rq, C, mOff, sOff);
        const f = bytes === 1 ? rqs8 : rqs16;
        xs.fill(0); // every channel writes the same interior positions: the padding stays 0
        const firsts = Array.from({ length: sw }, (_, j) => (((j - pw) % sw) + sw) % sw);
        for (let c = 0; c < C; c++) {
          for (let n = 0; n < N && wd; n++) wd(inOff + (n * C + c) * H * W * eb, xOff + ((n * Hq + ph) * PW + pw) * 2, H, W, W * eb, PW * 2);
          for (let n = 0; n < N && sp; n++) {
            const rowOff = (n * Hq + ph) * PW;
            sp(inOff + (n * C + c) * H * W, xOff + (pe * phase + rowOff + (pw >> 1)) * 2, xOff + (po * phase + rowOff + ((pw + 1) >> 1)) * 2, H, W, W, PW * 2);
          }
          for (let n = 0; n < N && !wd && !sp; n++) {
            const xb = (n * C + c) * H * W;
            for (let y = 0; y < H; y++) {
              const rowOff = (n * Hq + y + ph) * PW;
              const src = xb + y * W;
              if (sw === 1) {
                for (let xx = 0, d = rowOff + pw; xx < W; xx++, d++) xs[d] = x[src + xx];
                continue;
              }
              for (let j = 0; j < sw; j++) {
                const first = firsts[j];
                let d = (j * phase + rowOff + (first + pw - j) / sw) | 0; // an exact quotient; | 0 keeps the index a small integer
                for (let xx = first; xx < W; xx += sw, d++) xs[d] = x[src + xx];
              }
            }
          }
          let nt = 0;
          for (let ky = 0; ky < KH; ky++) {
            if (!rowLive[ky]) continue;
            for (let kx = 0; kx < KW; kx++) {
              const wv = w[(c * KH + ky) * KW + kx];
              if (wv === 0 || !colLive[kx]) continue;
              const t = kx * dw;
              taps[2 * nt] = ((t % sw) * phase + ky * dh * PW + Math.floor(t / sw)) * 2;
              taps[2 * nt + 1] = wv;
              nt++;
            }
          }
          dwk(oOff, xOff, N * RO, OWp >> 3, sh * PW * 2, OWp * 4, tOff, nt, bias ? bias[c] : 0);
          if (P >= 32) {
            // large planes: each image's OH rows requantized straight into place
            for (let n = 0; n < N; n++) {
              f(oOff + n * RO * OWp * 4, fOff + (n * C + c) * P * bytes, OH, OW, OWp * 4, OW * bytes, mOff + 4 * c, sOff + 4 * c, 0, rq.lo, rq.hi);
            }
            continue;
          }
          // small planes: one requantization call for every stacked row (rows oy >= OH of each image included), then
          // each image's OH rows (contiguous in q) moved into place
          f(oOff, qOff, N * RO, OW, OWp * 4, OW * bytes, mOff + 4 * c, sOff + 4 * c, 0, rq.lo, rq.hi);
          if (P === 1) for (let n = 0; n < N; n++) final[n * C + c] = q[n * RO];
          else for (let n = 0; n < N; n++) final.set(q.subarray(n * RO * OW, n * RO * OW + P), (n * C + c) * P);
        }
        return final.slice();
      },
      requant(acc, multiplier, shift, dtype, zp, lo, hi, channels, inner) {
        const bytes = dtype === 'int8' ? 1 : 2;
        const n = acc.length;
        const aOff = 64, rOff = 64 + align(4 * n);
        const need = rOff + align(bytes * n);
        if (need > mem.buffer.byteLength) mem.grow(Math.ceil((need - mem.buffer.byteLength) / 65536));
        new Int32Array(mem.buffer, aOff, n).set(acc);
        const f = bytes === 1 ? rq8 : rq16;
        const per = multiplier.length === 1;
        for (let base = 0; base < n; base += channels * inner) {
          for (let c = 0; c < channels; c++) {
            const start = base + c * inner;
            const len = Math.min(inner, n - start);
            if (len <= 0) break;
            f(aOff + 4 * start, rOff + bytes * start, len, per ? multiplier[0] : multiplier[c], per ? shift[0] : shift[c], zp, lo, hi);
          }
        }
        return bytes === 1 ? new Int8Array(mem.buffer, rOff, n).slice() : new Int16Array(mem.buffer, rOff, n).slice();
      },
    };
  } catch {
    instance = null;
  }
  return instance;
}
