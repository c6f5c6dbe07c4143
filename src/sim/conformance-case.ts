/** Reading integer conformance cases and comparing results: shared by the CPU and the WGSL quantized_* runners. */
import type { CaseResult, CaseTensor, Mismatch } from '../conformance/types.ts';
import type { IntArray } from './int/requant.ts';

export function tensor(v: unknown, name: string): CaseTensor {
  const t = v as CaseTensor | null | undefined;
  if (!t || !Array.isArray(t.shape) || !Array.isArray(t.data)) throw new Error(`missing tensor ${name}`);
  return t;
}

export function toInt(t: CaseTensor, name: string): IntArray {
  const d = t.data as number[];
  switch (t.dtype) {
    case 'uint8': return Uint8Array.from(d);
    case 'int8': return Int8Array.from(d);
    case 'int32': return Int32Array.from(d);
    case 'int64': return Int32Array.from(d);
    default: throw new Error(`${name}: expected an integer tensor, got ${t.dtype}`);
  }
}

export function num(v: unknown, name: string): number {
  if (typeof v !== 'number' || !Number.isFinite(v)) throw new Error(`missing number ${name}`);
  return v;
}

export function f32s(t: CaseTensor): Float32Array {
  return Float32Array.from(t.data as number[]);
}

/** Compare; `tolerance[i]` (if given) is the allowed |diff| at i. */
export function compare(output: string, expected: ArrayLike<number>, actual: ArrayLike<number>, tolerance?: (i: number) => number): Mismatch | null {
  if (expected.length !== actual.length) {
    return { output: `${output} (length)`, index: -1, expected: expected.length, actual: actual.length, count: 1 };
  }
  let first = -1;
  let count = 0;
  for (let i = 0; i < expected.length; i++) {
    const tol = tolerance ? tolerance(i) : 0;
    if (Math.abs(expected[i] - actual[i]) > tol) {
      if (first < 0) first = i;
      count++;
    }
  }
  return count === 0 ? null : { output, index: first, expected: expected[first], actual: actual[first], count };
}

export function result(ms: Array<Mismatch | null>): CaseResult {
  const mismatches = ms.filter((m): m is Mismatch => m !== null);
  return { ok: mismatches.length === 0, mismatches };
}
