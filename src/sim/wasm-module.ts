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

import { interleaveBody, PACK_KINDS, splitBody, widenBody } from './wasm-pack.ts';
import { BLOCK, BR, BR_IF, END, GET, I32_ADD, I32_CONST, I32_GE_U, I32_MUL, LOOP, SET, SIMD, uleb, VOID } from './wasm-opcodes.ts';

const enc = (s: string) => [...new TextEncoder().encode(s)];

function section(id: number, body: number[]): number[] {
  return [id, ...uleb(body.length), ...body];
}

// opcodes
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

/**
 * Pointwise (1x1) conv of one image as a channel-major GEMM, for small K:
 *   out[o·Pp + p] = bias[o] + Σ_k w[o,k] · x[k,p]
 * The input comes as channel pairs, x2[(kp·Pp + p)·2 + j] = x[2kp + j, p] (int16), the weights as int16 pairs
 * interleaved by 4 output channels, w4[((o/4)·KP + kp)·4 + o%4] = (w[o,2kp], w[o,2kp+1]), so one
 * i32x4.dot_i16x8_s with a splatted weight pair gives 4 pixels' sums over 2 input channels. A register block is
 * 4 output channels x 8 pixels (8 accumulators), started from the bias; Oe % 4 == 0, Pp % 8 == 0.
 * (func (param $x2 $w4 $out $bias $Oe $Pp $KP i32))
 */
function pwBody(): number[] {
  const X2 = 0, W4 = 1, OUTP = 2, BIAS = 3, OE = 4, PP = 5, KP = 6;
  const O_ = 7, P_ = 8, K_ = 9, XP = 10, WP = 11, ROWB = 12, OB = 13;
  const ACC = [14, 15, 16, 17, 18, 19, 20, 21], XA = 22, XB = 23, WV = 24;
  const LOAD32_SPLAT = (off: number) => [SIMD, 0x09, 0x02, ...uleb(off)];
  const LOAD_OFF = (off: number) => [SIMD, 0x00, 0x04, ...uleb(off)];
  const STORE_OFF = (off: number) => [SIMD, 0x0b, 0x04, ...uleb(off)];
  const I32_SHL = 0x74;
  const code = [
    GET, PP, I32_CONST, 4, I32_MUL, SET, ROWB, // bytes per x2 row (Pp pixels x 2 int16)
    I32_CONST, 0, SET, O_,
    BLOCK, VOID, LOOP, VOID,
    GET, O_, GET, OE, I32_GE_U, BR_IF, 1,
    I32_CONST, 0, SET, P_,
    BLOCK, VOID, LOOP, VOID,
    GET, P_, GET, PP, I32_GE_U, BR_IF, 1,
    // accumulators = bias splats
    ...[0, 1, 2, 3].flatMap((j) => [GET, BIAS, GET, O_, I32_CONST, 2, I32_SHL, I32_ADD, ...LOAD32_SPLAT(4 * j), SET, ACC[2 * j], GET, ACC[2 * j], SET, ACC[2 * j + 1]]),
    GET, X2, GET, P_, I32_CONST, 2, I32_SHL, I32_ADD, SET, XP,
    GET, W4, GET, O_, GET, KP, I32_MUL, I32_CONST, 2, I32_SHL, I32_ADD, SET, WP,
    I32_CONST, 0, SET, K_,
    BLOCK, VOID, LOOP, VOID,
    GET, K_, GET, KP, I32_GE_U, BR_IF, 1,
    GET, XP, ...LOAD_OFF(0), SET, XA,
    GET, XP, ...LOAD_OFF(16), SET, XB,
    ...[0, 1, 2, 3].flatMap((j) => [
      GET, WP, ...LOAD32_SPLAT(4 * j), SET, WV,
      GET, ACC[2 * j], GET, XA, GET, WV, ...DOT, ...ADD4, SET, ACC[2 * j],
      GET, ACC[2 * j + 1], GET, XB, GET, WV, ...DOT, ...ADD4, SET, ACC[2 * j + 1],
    ]),
    GET, XP, GET, ROWB, I32_ADD, SET, XP,
    GET, WP, I32_CONST, 16, I32_ADD, SET, WP,
    GET, K_, I32_CONST, 1, I32_ADD, SET, K_,
    BR, 0,
    END, END,
    // store: out[(o + j)·Pp + p ..]
    GET, OUTP, GET, O_, GET, PP, I32_MUL, GET, P_, I32_ADD, I32_CONST, 2, I32_SHL, I32_ADD, SET, OB,
    ...[0, 1, 2, 3].flatMap((j) => [
      GET, OB, GET, ACC[2 * j], ...STORE_OFF(0),
      GET, OB, GET, ACC[2 * j + 1], ...STORE_OFF(16),
      GET, OB, GET, ROWB, I32_ADD, SET, OB, // Pp·4 bytes per output row
    ]),
    GET, P_, I32_CONST, 8, I32_ADD, SET, P_,
    BR, 0,
    END, END,
    GET, O_, I32_CONST, 4, I32_ADD, SET, O_,
    BR, 0,
    END, END,
    END,
  ];
  // 7 i32 (o, p, k, xp, wp, rowb, ob), 11 v128 (8 acc, xa, xb, wv)
  const locals = [0x02, 0x07, 0x7f, 0x0b, 0x7b];
  const fn = [...locals, ...code];
  return [...uleb(fn.length), ...fn];
}

/**
 * Depthwise conv rows with every tap in registers: for `rows` output rows of nblk·8 outputs,
 *   dst[r·ds + i] = bias + Σ_t w_t · src[r·ss + i + off_t]          (int16 src, int32 dst)
 * taps[2t] = byte offset off_t, taps[2t + 1] = w_t (int16 in the low half, read with v128.load16_splat).
 * (func (param $dst $src $rows $nblk $ss $ds $taps $ntaps $bias i32) (local $r $i $t $tp $sp $dp i32)
 *   (local $a0 $a1 $x $wv $b v128))
 */
function dwBody(): number[] {
  const DST = 0, SRC = 1, ROWS = 2, NBLK = 3, SS = 4, DS = 5, TAPS = 6, NT = 7, BIASV = 8;
  const R = 9, I = 10, T = 11, TP = 12, SP = 13, DP = 14, A0 = 15, A1 = 16, XV = 17, WV = 18, BV = 19;
  const EXT_LO = [SIMD, ...uleb(188)], EXT_HI = [SIMD, ...uleb(189)];
  const SPLAT32 = [SIMD, 0x11];
  const LOAD16_SPLAT = (off: number) => [SIMD, 0x08, 0x01, ...uleb(off)];
  const I32_LOAD = [0x28, 0x02, 0x00];
  const code = [
    GET, BIASV, ...SPLAT32, SET, BV,
    I32_CONST, 0, SET, R,
    BLOCK, VOID, LOOP, VOID,
    GET, R, GET, ROWS, I32_GE_U, BR_IF, 1,
    GET, SRC, SET, SP,
    GET, DST, SET, DP,
    I32_CONST, 0, SET, I,
    BLOCK, VOID, LOOP, VOID,
    GET, I, GET, NBLK, I32_GE_U, BR_IF, 1,
    GET, BV, SET, A0, GET, BV, SET, A1,
    GET, TAPS, SET, TP,
    I32_CONST, 0, SET, T,
    BLOCK, VOID, LOOP, VOID,
    GET, T, GET, NT, I32_GE_U, BR_IF, 1,
    GET, SP, GET, TP, ...I32_LOAD, I32_ADD, ...V128_LOAD, SET, XV,
    GET, TP, ...LOAD16_SPLAT(4), SET, WV,
    GET, A0, GET, XV, GET, WV, ...EXT_LO, ...ADD4, SET, A0,
    GET, A1, GET, XV, GET, WV, ...EXT_HI, ...ADD4, SET, A1,
    GET, TP, I32_CONST, 8, I32_ADD, SET, TP,
    GET, T, I32_CONST, 1, I32_ADD, SET, T,
    BR, 0,
    END, END,
    GET, DP, GET, A0, SIMD, 0x0b, 0x04, 0x00,
    GET, DP, GET, A1, SIMD, 0x0b, 0x04, 0x10,
    GET, SP, I32_CONST, 16, I32_ADD, SET, SP,
    GET, DP, I32_CONST, 32, I32_ADD, SET, DP,
    GET, I, I32_CONST, 1, I32_ADD, SET, I,
    BR, 0,
    END, END,
    GET, SRC, GET, SS, I32_ADD, SET, SRC,
    GET, DST, GET, DS, I32_ADD, SET, DST,
    GET, R, I32_CONST, 1, I32_ADD, SET, R,
    BR, 0,
    END, END,
    END,
  ];
  const locals = [0x02, 0x06, 0x7f, 0x05, 0x7b];
  const fn = [...locals, ...code];
  return [...uleb(fn.length), ...fn];
}

/**
 * Horizon requantization of `rows` rows of `len` int32 values, eight at a time with SIMD, the rest scalar:
 *   r = (acc·m + half) >> s  (i64, exact; half = 2^(s−1), 0 for s = 0), clamped to [lo, hi] in i64, stored as
 *   int8 (bytes 1) or int16 (bytes 2). The same integers as requantBody / requantizeHorizon (zero point 0).
 * Row r reads src + r·ss, writes dst + r·ds; its multiplier / shift are the i32 at mp + r·step, sp + r·step.
 * (func (param $src $dst $rows $len $ss $ds $mp $sp $step $lo $hi i32))
 */
function rqsBody(bytes: 1 | 2): number[] {
  const SRC = 0, DST = 1, ROWS = 2, LEN = 3, SS = 4, DS = 5, MP = 6, SP_ = 7, STEP = 8, LO = 9, HI = 10;
  const R = 11, I = 12, S = 13, M32 = 14; // i32 locals
  const MM = 15, HALF = 16, RV = 17, LO64 = 18, HI64 = 19; // i64 locals
  const VM = 20, VH = 21, VLO = 22, VHI = 23, E0 = 24, E1 = 25, Q0 = 26, Q1 = 27, Q2 = 28; // v128 locals
  const I64_CONST = 0x42, I64_EXT_S = 0xac, I64_EXT_U = 0xad, I64_MUL = 0x7e, I64_ADD = 0x7c, I64_SHR_S = 0x87, I64_SHL = 0x86, I64_SHR_U = 0x88;
  const I32_WRAP = 0xa7, I64_GT_S = 0x55, I64_LT_S = 0x53, SELECT = 0x1b, I32_SHL = 0x74, I32_LOAD = [0x28, 0x02, 0x00], I32_SUB = 0x6b, I32_LE_S = 0x4c, I32_GE_S = 0x4e;
  const V = (op: number) => [SIMD, ...uleb(op)];
  const SPLAT32 = V(0x11), SPLAT64 = V(0x12);
  const EXTMUL_LO = V(0xdc), EXTMUL_HI = V(0xdd), ADD64 = V(0xce), SHR64 = V(0xcc), LT64 = V(0xd8), GT64 = V(0xd9), BITSEL = V(0x52);
  const NARROW32 = V(0x85), NARROW16 = V(0x65);
  const LOADO = (off: number) => [SIMD, 0x00, 0x04, ...uleb(off)];
  const SHUF_EVEN32 = [SIMD, 0x0d, 0, 1, 2, 3, 8, 9, 10, 11, 16, 17, 18, 19, 24, 25, 26, 27];
  const STORE = bytes === 1 ? [0x3a, 0x00, 0x00] : [0x3b, 0x01, 0x00];
  // one i64x2 vector: + half, >> s, clamp to [lo, hi]
  const fix = (e: number) => [
    GET, e, GET, VH, ...ADD64, GET, S, ...SHR64, SET, e,
    GET, VHI, GET, e, GET, e, GET, VHI, ...GT64, ...BITSEL, SET, e,
    GET, VLO, GET, e, GET, e, GET, VLO, ...LT64, ...BITSEL, SET, e,
  ];
  const quad = (off: number, q: number) => [
    GET, SRC, GET, I, I32_CONST, 2, I32_SHL, I32_ADD, ...LOADO(off), SET, Q0,
    GET, Q0, GET, VM, ...EXTMUL_LO, SET, E0,
    GET, Q0, GET, VM, ...EXTMUL_HI, SET, E1,
    ...fix(E0), ...fix(E1),
    GET, E0, GET, E1, ...SHUF_EVEN32, SET, q,
  ];
  const code = [
    GET, LO, I64_EXT_S, SET, LO64,
    GET, HI, I64_EXT_S, SET, HI64,
    GET, LO64, ...SPLAT64, SET, VLO,
    GET, HI64, ...SPLAT64, SET, VHI,
    I32_CONST, 0, SET, R,
    BLOCK, VOID, LOOP, VOID,
    GET, R, GET, ROWS, I32_GE_U, BR_IF, 1,
    GET, MP, ...I32_LOAD, SET, M32,
    GET, SP_, ...I32_LOAD, SET, S,
    GET, M32, I64_EXT_U, SET, MM,
    I64_CONST, 1, GET, S, I64_EXT_U, I64_SHL, I64_CONST, 1, I64_SHR_U, SET, HALF,
    GET, M32, ...SPLAT32, SET, VM,
    GET, HALF, ...SPLAT64, SET, VH,
    I32_CONST, 0, SET, I,
    // vector part: while i + 8 <= len
    BLOCK, VOID, LOOP, VOID,
    GET, I, I32_CONST, 8, I32_ADD, GET, LEN, 0x4b /* i32.gt_u */, BR_IF, 1,
    ...quad(0, Q2),
    ...quad(16, Q1),
    GET, Q2, GET, Q1, ...NARROW32, SET, Q0,
    ...(bytes === 1
      ? [GET, DST, GET, I, I32_ADD, GET, Q0, GET, Q0, ...NARROW16, SIMD, 0x5b, 0x03, 0x00, 0x00]
      : [GET, DST, GET, I, I32_CONST, 1, I32_SHL, I32_ADD, GET, Q0, SIMD, 0x0b, 0x04, 0x00]),
    GET, I, I32_CONST, 8, I32_ADD, SET, I,
    BR, 0,
    END, END,
    // scalar tail
    BLOCK, VOID, LOOP, VOID,
    GET, I, GET, LEN, I32_GE_U, BR_IF, 1,
    GET, SRC, GET, I, I32_CONST, 2, I32_SHL, I32_ADD, ...I32_LOAD,
    I64_EXT_S, GET, MM, I64_MUL, GET, HALF, I64_ADD, GET, S, I64_EXT_U, I64_SHR_S, SET, RV,
    GET, DST, GET, I, ...(bytes === 2 ? [I32_CONST, 1, I32_SHL] : []), I32_ADD,
    GET, LO,
    GET, HI, GET, RV, I32_WRAP, GET, RV, GET, HI64, I64_GT_S, SELECT,
    GET, RV, GET, LO64, I64_LT_S, SELECT,
    ...STORE,
    GET, I, I32_CONST, 1, I32_ADD, SET, I,
    BR, 0,
    END, END,
    GET, SRC, GET, SS, I32_ADD, SET, SRC,
    GET, DST, GET, DS, I32_ADD, SET, DST,
    GET, MP, GET, STEP, I32_ADD, SET, MP,
    GET, SP_, GET, STEP, I32_ADD, SET, SP_,
    GET, R, I32_CONST, 1, I32_ADD, SET, R,
    BR, 0,
    END, END,
    END,
  ];
  void I32_SUB; void I32_LE_S; void I32_GE_S;
  const locals = [0x03, 0x04, 0x7f, 0x05, 0x7e, 0x09, 0x7b];
  const fn = [...locals, ...code];
  return [...uleb(fn.length), ...fn];
}

export function gemmModuleBytes(): Uint8Array<ArrayBuffer> {
  const fnType = (n: number) => [0x60, n, ...new Array(n).fill(0x7f), 0]; // n i32 params, no result
  const type = section(1, [5, ...fnType(6), ...fnType(8), ...fnType(7), ...fnType(9), ...fnType(11)]);
  const imp = section(2, [1, ...uleb(3), ...enc('env'), ...uleb(3), ...enc('mem'), 0x02, 0x00, 1]);
  // the data movers of wasm-pack.ts: wd* (type 0: 6 params) and il* (type 2: 7 params), one per element kind
  const packTypes = [...PACK_KINDS.map(() => 0), ...PACK_KINDS.map(() => 2), 2, 2];
  const nf = 8 + packTypes.length;
  const func = section(3, [nf, 0, 1, 1, 2, 2, 3, 4, 4, ...packTypes]);
  const name = (s: string, i: number) => [...uleb(s.length), ...enc(s), 0x00, i];
  const packNames = [...PACK_KINDS.map((k) => `wd${k.slice(1)}${k[0] === 'u' ? 'u' : ''}`), ...PACK_KINDS.map((k) => `il${k.slice(1)}${k[0] === 'u' ? 'u' : ''}`), 'sp8', 'sp8u'];
  const exp = section(7, [nf, ...name('gemm', 0), ...name('rq8', 1), ...name('rq16', 2), ...name('axpy', 3), ...name('pw', 4), ...name('dw', 5),
    ...name('rqs8', 6), ...name('rqs16', 7), ...packNames.flatMap((n, i) => name(n, 8 + i))]);
  const code = section(10, [nf, ...body(), ...requantBody(1), ...requantBody(2), ...axpyRowsBody(), ...pwBody(), ...dwBody(), ...rqsBody(1), ...rqsBody(2),
    ...PACK_KINDS.flatMap((k) => widenBody(k)), ...PACK_KINDS.flatMap((k) => interleaveBody(k)), ...splitBody('i8'), ...splitBody('u8')]);
  return new Uint8Array([0x00, 0x61, 0x73, 0x6d, 0x01, 0x00, 0x00, 0x00, ...type, ...imp, ...func, ...exp, ...code]);
}
