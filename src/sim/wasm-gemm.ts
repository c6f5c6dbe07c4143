/**
 * A WebAssembly SIMD integer GEMM for the simulator's conv kernel, assembled here from its bytes (no toolchain, no
 * binary blob to trust): out[p·O + o] = Σ_k w[o·Kp + k] · col[p·Kp + k], with int16 operands (int8 weights and
 * int8/int16 activations widened) and int32 wrap-around accumulation (i32x4.dot_i16x8_s + i32x4.add, then a
 * horizontal sum of the 4 lanes by shuffles and i32x4.add): addition modulo 2^32, so the result equals the int32 wrap-around sum of the
 * reference kernel bit for bit. Rows are zero-padded to Kp = K rounded up to 8 (the padding adds 0).
 *
 * Four output channels are computed per pass over a column row (the column load is shared). Used when the host has
 * WebAssembly SIMD (Node 16.4+, every current browser); `wasmGemm()` returns null otherwise and the caller falls
 * back to the JS kernels.
 *
 * The function, in WAT terms:
 *   (func (export "gemm") (param $w i32) (param $c i32) (param $out i32) (param $O i32) (param $P i32) (param $kb i32)
 *     for o in 0..O step 4 (the caller pads O to a multiple of 4 with zero weight rows):
 *       for p in 0..P: a0..a3 = 0; for k in 0..kb step 16 bytes:
 *           x = v128.load(c + p·kb + k);  aj += dot(v128.load(w + (o+j)·kb + k), x)   (j = 0..3)
 *         out[p·O + o + j] = Σ lanes aj       (pixel-major; the four sums by two shuffle+add rounds, one store)
 */

const enc = (s: string) => [...new TextEncoder().encode(s)];

function uleb(n: number): number[] {
  const out: number[] = [];
  do {
    let b = n & 0x7f;
    n >>>= 7;
    if (n !== 0) b |= 0x80;
    out.push(b);
  } while (n !== 0);
  return out;
}

function section(id: number, body: number[]): number[] {
  return [id, ...uleb(body.length), ...body];
}

// opcodes
const BLOCK = 0x02, LOOP = 0x03, END = 0x0b, BR = 0x0c, BR_IF = 0x0d, VOID = 0x40;
const GET = 0x20, SET = 0x21;
const I32_CONST = 0x41, I32_ADD = 0x6a, I32_MUL = 0x6c, I32_GE_U = 0x4f;
const SIMD = 0xfd;
const V128_LOAD = [SIMD, 0x00, 0x04, 0x00];
const V128_ZERO = [SIMD, 0x0c, ...new Array(16).fill(0)];
const DOT = [SIMD, ...uleb(186)]; // i32x4.dot_i16x8_s
const ADD4 = [SIMD, ...uleb(174)]; // i32x4.add
const V128_STORE = [SIMD, 0x0b, 0x04, 0x00];

// locals: params 0..5 = w, c, out, O, P, kb; 6 = o, 7 = p, 8 = k, 9 = w row o, 10 = col row, 11..14 = a0..a3,
// 15 = x, 16..18 = w rows o+1..o+3
const W = 0, C = 1, OUT = 2, O = 3, P = 4, KB = 5, o = 6, p = 7, k = 8, WR = 9, CR = 10, A = [11, 12, 13, 14], X = 15, WRJ = [9, 16, 17, 18];

/** gemm: four output channels per pass over a column row (the column vector is loaded once for the four). */
function body(): number[] {
  // i8x16.shuffle of two vectors by i32 lanes (0..3 first operand, 4..7 second)
  const shuffle = (lanes: number[]) => [SIMD, 0x0d, ...lanes.flatMap((l) => [4 * l, 4 * l + 1, 4 * l + 2, 4 * l + 3])];
  const code = [
    I32_CONST, 0, SET, o,
    BLOCK, VOID, LOOP, VOID, // $bo, $lo
    GET, o, GET, O, I32_GE_U, BR_IF, 1,
    GET, W, GET, o, GET, KB, I32_MUL, I32_ADD, SET, WR,
    ...[1, 2, 3].flatMap((j) => [GET, WRJ[j - 1], GET, KB, I32_ADD, SET, WRJ[j]]),
    GET, C, SET, CR,
    I32_CONST, 0, SET, p,
    BLOCK, VOID, LOOP, VOID, // $bp, $lp
    GET, p, GET, P, I32_GE_U, BR_IF, 1,
    ...A.flatMap((a) => [...V128_ZERO, SET, a]),
    I32_CONST, 0, SET, k,
    BLOCK, VOID, LOOP, VOID, // $bk, $lk
    GET, k, GET, KB, I32_GE_U, BR_IF, 1,
    GET, CR, GET, k, I32_ADD, ...V128_LOAD, SET, X,
    ...[0, 1, 2, 3].flatMap((j) => [GET, A[j], GET, WRJ[j], GET, k, I32_ADD, ...V128_LOAD, GET, X, ...DOT, ...ADD4, SET, A[j]]),
    GET, k, I32_CONST, 16, I32_ADD, SET, k,
    BR, 0,
    END, END,
    // the four horizontal sums at once: t0 = pairwise sums of a0/a1, t1 of a2/a3, then one vector of the 4 totals,
    // stored at out[p·O + o .. o+3] (pixel-major)
    GET, A[0], GET, A[1], ...shuffle([0, 4, 1, 5]), GET, A[0], GET, A[1], ...shuffle([2, 6, 3, 7]), ...ADD4, SET, X,
    GET, A[2], GET, A[3], ...shuffle([0, 4, 1, 5]), GET, A[2], GET, A[3], ...shuffle([2, 6, 3, 7]), ...ADD4, SET, A[0],
    GET, OUT, GET, p, GET, O, I32_MUL, GET, o, I32_ADD, I32_CONST, 4, I32_MUL, I32_ADD,
    GET, X, GET, A[0], ...shuffle([0, 1, 4, 5]), GET, X, GET, A[0], ...shuffle([2, 3, 6, 7]), ...ADD4, ...V128_STORE,
    GET, CR, GET, KB, I32_ADD, SET, CR,
    GET, p, I32_CONST, 1, I32_ADD, SET, p,
    BR, 0,
    END, END,
    GET, o, I32_CONST, 4, I32_ADD, SET, o,
    BR, 0,
    END, END,
    END,
  ];
  // 5 i32 (o, p, k, wr, cr), 5 v128 (a0..a3, x), 3 i32 (wr1..wr3)
  const locals = [0x03, 0x05, 0x7f, 0x05, 0x7b, 0x03, 0x7f];
  const fn = [...locals, ...code];
  return [...uleb(fn.length), ...fn];
}

/**
 * Horizon requantization of n int32 values (one channel), exact in i64:
 *   r = (acc · m + half) >> s  (arithmetic; half = 2^(s−1), 0 for s = 0) = round half up of acc·m / 2^s
 *   out = clamp(r + zp, lo, hi)     compared in i64, so no wrap before the clamp
 * |acc·m| < 2^62 and half ≤ 2^62 (s = 63 only with a denormalised multiplier < 2^30): no i64 overflow. The same
 * integers as requantizeHorizon (requant.ts). `bytes` = 1 (int8 store) or 2 (int16 store).
 * (func (param $acc $out $n $m $s $zp $lo $hi i32) (local $i i32) (local $rv $mm $half $sh $zp64 $lo64 $hi64 i64))
 */
function requantBody(bytes: 1 | 2): number[] {
  const ACC = 0, OUTP = 1, N = 2, M = 3, S = 4, ZP = 5, LO = 6, HI = 7, I = 8, RV = 9, MM = 10, HALF = 11, SH = 12, ZP64 = 13, LO64 = 14, HI64 = 15;
  const I64_CONST = 0x42, I64_EXT_S = 0xac, I64_EXT_U = 0xad, I64_MUL = 0x7e, I64_ADD = 0x7c, I64_SHR_S = 0x87, I64_SHL = 0x86, I64_SHR_U = 0x88;
  const I32_WRAP = 0xa7, I64_GT_S = 0x55, I64_LT_S = 0x53, SELECT = 0x1b, I32_SHL = 0x74, I32_LOAD = [0x28, 0x02, 0x00];
  const STORE = bytes === 1 ? [0x3a, 0x00, 0x00] : [0x3b, 0x01, 0x00];
  const code = [
    GET, M, I64_EXT_U, SET, MM,
    GET, S, I64_EXT_U, SET, SH,
    I64_CONST, 1, GET, SH, I64_SHL, I64_CONST, 1, I64_SHR_U, SET, HALF,
    GET, ZP, I64_EXT_S, SET, ZP64,
    GET, LO, I64_EXT_S, SET, LO64,
    GET, HI, I64_EXT_S, SET, HI64,
    I32_CONST, 0, SET, I,
    BLOCK, VOID, LOOP, VOID,
    GET, I, GET, N, I32_GE_U, BR_IF, 1,
    GET, ACC, GET, I, I32_CONST, 2, I32_SHL, I32_ADD, ...I32_LOAD,
    I64_EXT_S, GET, MM, I64_MUL, GET, HALF, I64_ADD, GET, SH, I64_SHR_S, GET, ZP64, I64_ADD, SET, RV,
    GET, OUTP, GET, I, ...(bytes === 2 ? [I32_CONST, 1, I32_SHL] : []), I32_ADD,
    GET, LO,
    GET, HI, GET, RV, I32_WRAP, GET, RV, GET, HI64, I64_GT_S, SELECT,
    GET, RV, GET, LO64, I64_LT_S, SELECT,
    ...STORE,
    GET, I, I32_CONST, 1, I32_ADD, SET, I,
    BR, 0,
    END, END,
    END,
  ];
  const locals = [0x02, 0x01, 0x7f, 0x07, 0x7e];
  const fn = [...locals, ...code];
  return [...uleb(fn.length), ...fn];
}

/**
 * Depthwise helper: for one weight tap, over `rows` output rows of n elements (n a multiple of 8):
 *   dst[r·dstStride + i] += w · src[r·srcStride + i]      (int16 src, int32 dst, i32x4.extmul_{low,high}_i16x8_s)
 * (func (param $dst $src $w $rows $n $srcStride $dstStride i32) (local $r $i i32) (local $wv $x v128)
 *   (local $end $di i32))
 */
function axpyRowsBody(): number[] {
  const DST = 0, SRC = 1, WV_IN = 2, ROWS = 3, NN = 4, SS = 5, DS = 6, R = 7, II = 8, WV = 9, X = 10, END_ = 11, DI = 12;
  const SPLAT16 = [SIMD, 0x10];
  const EXT_LO = [SIMD, ...uleb(188)], EXT_HI = [SIMD, ...uleb(189)];
  const LOAD0 = [SIMD, 0x00, 0x04, 0x00], LOAD16 = [SIMD, 0x00, 0x04, 0x10];
  const STORE0 = [SIMD, 0x0b, 0x04, 0x00], STORE16 = [SIMD, 0x0b, 0x04, 0x10];
  const I32_SHL = 0x74;
  const code = [
    GET, WV_IN, ...SPLAT16, SET, WV,
    GET, NN, I32_CONST, 1, I32_SHL, SET, END_,
    I32_CONST, 0, SET, R,
    BLOCK, VOID, LOOP, VOID,
    GET, R, GET, ROWS, I32_GE_U, BR_IF, 1,
    I32_CONST, 0, SET, II,
    BLOCK, VOID, LOOP, VOID,
    GET, II, GET, END_, I32_GE_U, BR_IF, 1,
    GET, SRC, GET, II, I32_ADD, ...LOAD0, SET, X,
    GET, DST, GET, II, I32_CONST, 1, I32_SHL, I32_ADD, SET, DI,
    GET, DI, GET, DI, ...LOAD0, GET, X, GET, WV, ...EXT_LO, ...ADD4, ...STORE0,
    GET, DI, GET, DI, ...LOAD16, GET, X, GET, WV, ...EXT_HI, ...ADD4, ...STORE16,
    GET, II, I32_CONST, 16, I32_ADD, SET, II,
    BR, 0,
    END, END,
    GET, SRC, GET, SS, I32_ADD, SET, SRC,
    GET, DST, GET, DS, I32_ADD, SET, DST,
    GET, R, I32_CONST, 1, I32_ADD, SET, R,
    BR, 0,
    END, END,
    END,
  ];
  const locals = [0x03, 0x02, 0x7f, 0x02, 0x7b, 0x02, 0x7f];
  const fn = [...locals, ...code];
  return [...uleb(fn.length), ...fn];
}

export function gemmModuleBytes(): Uint8Array<ArrayBuffer> {
  const type = section(1, [3, 0x60, 6, 0x7f, 0x7f, 0x7f, 0x7f, 0x7f, 0x7f, 0, 0x60, 8, 0x7f, 0x7f, 0x7f, 0x7f, 0x7f, 0x7f, 0x7f, 0x7f, 0,
    0x60, 7, 0x7f, 0x7f, 0x7f, 0x7f, 0x7f, 0x7f, 0x7f, 0]);
  const imp = section(2, [1, ...uleb(3), ...enc('env'), ...uleb(3), ...enc('mem'), 0x02, 0x00, 1]);
  const func = section(3, [4, 0, 1, 1, 2]);
  const exp = section(7, [4, ...uleb(4), ...enc('gemm'), 0x00, 0, ...uleb(3), ...enc('rq8'), 0x00, 1, ...uleb(4), ...enc('rq16'), 0x00, 2,
    ...uleb(4), ...enc('axpy'), 0x00, 3]);
  const code = section(10, [4, ...body(), ...requantBody(1), ...requantBody(2), ...axpyRowsBody()]);
  return new Uint8Array([0x00, 0x61, 0x73, 0x6d, 0x01, 0x00, 0x00, 0x00, ...type, ...imp, ...func, ...exp, ...code]);
}

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
}

type IntArray16 = Int8Array | Uint8Array | Int16Array;

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
                let d = j * phase + rowOff + (first + pw - j) / sw;
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
