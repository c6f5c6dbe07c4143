/**
 * Data movement for the simulator's WebAssembly kernels (assembled into the module of wasm-module.ts): the layouts the
 * GEMM and depthwise kernels read, built from the layer's input (copied into the module's memory) with SIMD loads
 * that widen int8 / uint8 to int16, instead of element-by-element JavaScript loops. Integers are moved, not changed.
 *
 *   widen (wd8 / wd8u / wd16):  for r < rows, i < n:  dst16[r·ds + i] = src[r·ss + i]          (byte strides)
 *     (func (param $src $dst $rows $n $ss $ds i32))
 *   interleave (il8 / il8u / il16):  for r < rows, i < n:  dst16[r·ds/2 + 2i] = a[r·ss + i], dst16[.. + 2i + 1] = b[r·ss + i]
 *     (func (param $a $b $dst $rows $n $ss $ds i32))     (channel pairs of the GEMM's columns)
 *   split (sp8 / sp8u): stride-2 column phases of int8 / uint8 rows (splitBody)
 * Eight elements per step (v128.load8x8_s / _u, or v128.load for int16; i8x16.shuffle to interleave), then a
 * scalar tail: nothing is written outside the n elements of a row.
 */

import { BLOCK, BR, BR_IF, END, GET, I32_ADD, I32_CONST, I32_GE_U, I32_GT_U, I32_MUL, I32_SHL, LOOP, SET, SIMD, uleb, VOID } from './wasm-opcodes.ts';

export type PackKind = 'i8' | 'u8' | 'i16';

const STORE16 = [0x3b, 0x01, 0x00];
const VSTORE = (off: number) => [SIMD, 0x0b, 0x04, ...uleb(off)];

/** Element bytes, the 8-element widening vector load and the scalar load of a kind. */
function loads(kind: PackKind): { eb: number; vec: number[]; one: number[] } {
  if (kind === 'i8') return { eb: 1, vec: [SIMD, 0x01, 0x03, 0x00], one: [0x2c, 0x00, 0x00] };
  if (kind === 'u8') return { eb: 1, vec: [SIMD, 0x02, 0x03, 0x00], one: [0x2d, 0x00, 0x00] };
  return { eb: 2, vec: [SIMD, 0x00, 0x04, 0x00], one: [0x2e, 0x01, 0x00] };
}

/** addr = base + i · scale (scale a power of two: a shift) */
const addr = (base: number, i: number, shift: number) => [GET, base, GET, i, ...(shift ? [I32_CONST, shift, I32_SHL] : []), I32_ADD];

function fn(locals: number[], code: number[]): number[] {
  const f = [...locals, ...code, END];
  return [...uleb(f.length), ...f];
}

export function widenBody(kind: PackKind): number[] {
  const SRC = 0, DST = 1, ROWS = 2, N = 3, SS = 4, DS = 5, R = 6, I = 7;
  const { eb, vec, one } = loads(kind);
  const sh = eb === 2 ? 1 : 0;
  const code = [
    I32_CONST, 0, SET, R,
    BLOCK, VOID, LOOP, VOID,
    GET, R, GET, ROWS, I32_GE_U, BR_IF, 1,
    I32_CONST, 0, SET, I,
    BLOCK, VOID, LOOP, VOID,
    GET, I, I32_CONST, 8, I32_ADD, GET, N, I32_GT_U, BR_IF, 1,
    ...addr(DST, I, 1), ...addr(SRC, I, sh), ...vec, ...VSTORE(0),
    GET, I, I32_CONST, 8, I32_ADD, SET, I,
    BR, 0,
    END, END,
    BLOCK, VOID, LOOP, VOID,
    GET, I, GET, N, I32_GE_U, BR_IF, 1,
    ...addr(DST, I, 1), ...addr(SRC, I, sh), ...one, ...STORE16,
    GET, I, I32_CONST, 1, I32_ADD, SET, I,
    BR, 0,
    END, END,
    GET, SRC, GET, SS, I32_ADD, SET, SRC,
    GET, DST, GET, DS, I32_ADD, SET, DST,
    GET, R, I32_CONST, 1, I32_ADD, SET, R,
    BR, 0,
    END, END,
  ];
  return fn([0x01, 0x02, 0x7f], code); // r i (i32)
}

export function interleaveBody(kind: PackKind): number[] {
  const A = 0, B = 1, DST = 2, ROWS = 3, N = 4, SS = 5, DS = 6, I = 7, R = 8, VA = 9, VB = 10;
  const { eb, vec, one } = loads(kind);
  const sh = eb === 2 ? 1 : 0;
  // 16-bit lanes: a0 b0 a1 b1 a2 b2 a3 b3, then a4 b4 ... a7 b7
  const lanes = (from: number) => [0, 1, 2, 3].flatMap((l) => [2 * (from + l), 2 * (from + l) + 1, 16 + 2 * (from + l), 17 + 2 * (from + l)]);
  const code = [
    I32_CONST, 0, SET, R,
    BLOCK, VOID, LOOP, VOID,
    GET, R, GET, ROWS, I32_GE_U, BR_IF, 1,
    I32_CONST, 0, SET, I,
    BLOCK, VOID, LOOP, VOID,
    GET, I, I32_CONST, 8, I32_ADD, GET, N, I32_GT_U, BR_IF, 1,
    ...addr(A, I, sh), ...vec, SET, VA,
    ...addr(B, I, sh), ...vec, SET, VB,
    ...addr(DST, I, 2), GET, VA, GET, VB, SIMD, 0x0d, ...lanes(0), ...VSTORE(0),
    ...addr(DST, I, 2), GET, VA, GET, VB, SIMD, 0x0d, ...lanes(4), ...VSTORE(16),
    GET, I, I32_CONST, 8, I32_ADD, SET, I,
    BR, 0,
    END, END,
    BLOCK, VOID, LOOP, VOID,
    GET, I, GET, N, I32_GE_U, BR_IF, 1,
    ...addr(DST, I, 2), ...addr(A, I, sh), ...one, ...STORE16,
    ...addr(DST, I, 2), I32_CONST, 2, I32_ADD, ...addr(B, I, sh), ...one, ...STORE16,
    GET, I, I32_CONST, 1, I32_ADD, SET, I,
    BR, 0,
    END, END,
    GET, A, GET, SS, I32_ADD, SET, A,
    GET, B, GET, SS, I32_ADD, SET, B,
    GET, DST, GET, DS, I32_ADD, SET, DST,
    GET, R, I32_CONST, 1, I32_ADD, SET, R,
    BR, 0,
    END, END,
  ];
  void I32_MUL;
  return fn([0x02, 0x02, 0x7f, 0x02, 0x7b], code); // i r (i32), va vb (v128)
}

/**
 * Stride-2 column split of int8 / uint8 rows (the depthwise kernel's phase planes): for r < rows,
 *   dstE16[r·ds/2 + m] = src[r·ss + 2m]  (m < ceil(n / 2)),   dstO16[r·ds/2 + m] = src[r·ss + 2m + 1]  (m < floor(n / 2))
 * 16 inputs per step (one v128.load, two i8x16.shuffle, i16x8.extend_low_i8x16_s / _u), then a scalar tail.
 * (func (param $src $dstE $dstO $rows $n $ss $ds i32))
 */
export function splitBody(kind: 'i8' | 'u8'): number[] {
  const SRC = 0, DE = 1, DO = 2, ROWS = 3, N = 4, SS = 5, DS = 6, I = 7, R = 8, V = 9;
  const one = loads(kind).one;
  const EXT = kind === 'i8' ? [SIMD, ...uleb(0x87)] : [SIMD, ...uleb(0x89)];
  const pick = (first: number) => [SIMD, 0x0d, ...Array.from({ length: 16 }, (_, l) => (l < 8 ? first + 2 * l : 0))];
  const code = [
    I32_CONST, 0, SET, R,
    BLOCK, VOID, LOOP, VOID,
    GET, R, GET, ROWS, I32_GE_U, BR_IF, 1,
    I32_CONST, 0, SET, I, // I counts input elements (even)
    BLOCK, VOID, LOOP, VOID,
    GET, I, I32_CONST, 16, I32_ADD, GET, N, I32_GT_U, BR_IF, 1,
    GET, SRC, GET, I, I32_ADD, SIMD, 0x00, 0x04, 0x00, SET, V,
    GET, DE, GET, I, I32_ADD, GET, V, GET, V, ...pick(0), ...EXT, ...VSTORE(0), // dst + (I/2)·2 bytes = dst + I
    GET, DO, GET, I, I32_ADD, GET, V, GET, V, ...pick(1), ...EXT, ...VSTORE(0),
    GET, I, I32_CONST, 16, I32_ADD, SET, I,
    BR, 0,
    END, END,
    BLOCK, VOID, LOOP, VOID,
    GET, I, GET, N, I32_GE_U, BR_IF, 1,
    GET, DE, GET, I, I32_ADD, GET, SRC, GET, I, I32_ADD, ...one, ...STORE16,
    GET, I, I32_CONST, 1, I32_ADD, GET, N, I32_GE_U, BR_IF, 1,
    GET, DO, GET, I, I32_ADD, GET, SRC, GET, I, I32_ADD, I32_CONST, 1, I32_ADD, ...one, ...STORE16,
    GET, I, I32_CONST, 2, I32_ADD, SET, I,
    BR, 0,
    END, END,
    GET, SRC, GET, SS, I32_ADD, SET, SRC,
    GET, DE, GET, DS, I32_ADD, SET, DE,
    GET, DO, GET, DS, I32_ADD, SET, DO,
    GET, R, I32_CONST, 1, I32_ADD, SET, R,
    BR, 0,
    END, END,
  ];
  return fn([0x02, 0x02, 0x7f, 0x01, 0x7b], code); // i r (i32), v (v128)
}

export const PACK_KINDS: readonly PackKind[] = ['i8', 'u8', 'i16'];
