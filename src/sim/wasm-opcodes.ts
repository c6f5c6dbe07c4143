/**
 * The WebAssembly encoding shared by the simulator's hand-assembled kernels (wasm-module.ts, wasm-pack.ts): LEB128
 * integers and the opcodes both use, in one place so the two assemblers cannot drift.
 */

/** Unsigned LEB128. */
export function uleb(n: number): number[] {
  const out: number[] = [];
  do {
    let b = n & 0x7f;
    n >>>= 7;
    if (n !== 0) b |= 0x80;
    out.push(b);
  } while (n !== 0);
  return out;
}

export const BLOCK = 0x02, LOOP = 0x03, END = 0x0b, BR = 0x0c, BR_IF = 0x0d, VOID = 0x40;
export const GET = 0x20, SET = 0x21;
export const I32_CONST = 0x41, I32_ADD = 0x6a, I32_MUL = 0x6c, I32_GE_U = 0x4f, I32_GT_U = 0x4b, I32_SHL = 0x74;
/** The prefix of every SIMD (v128) instruction. */
export const SIMD = 0xfd;
