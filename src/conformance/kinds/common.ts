/** Helpers shared by the kind runners: reading case tensors and comparing outputs with a tolerance. */
import type { CaseFile, CaseResult, CaseTensor, Mismatch } from '../types.ts';

export function isCaseTensor(v: unknown): v is CaseTensor {
  return typeof v === 'object' && v !== null && Array.isArray((v as CaseTensor).shape) && Array.isArray((v as CaseTensor).data);
}

/** A tensor field as numbers (bools become 0/1); throws a readable error when missing. */
export function tensorData(obj: Record<string, unknown>, key: string, where: string): { shape: number[]; data: number[] } {
  const v = obj[key];
  if (!isCaseTensor(v)) throw new Error(`${where}.${key} is missing or not a tensor`);
  return { shape: v.shape, data: (v.data as (number | boolean)[]).map((d) => (typeof d === 'boolean' ? (d ? 1 : 0) : d)) };
}

/** A float32 tensor field. */
export function f32Tensor(obj: Record<string, unknown>, key: string, where: string): { shape: number[]; data: Float32Array } {
  const t = tensorData(obj, key, where);
  return { shape: t.shape, data: Float32Array.from(t.data) };
}

/** A scalar or a tensor field as an array of numbers (observer min_val is a scalar, per-channel a tensor). */
export function numbers(obj: Record<string, unknown>, key: string, where: string): number[] {
  const v = obj[key];
  if (typeof v === 'number') return [v];
  if (isCaseTensor(v)) return tensorData(obj, key, where).data;
  if (Array.isArray(v) && v.every((e) => typeof e === 'number')) return v as number[];
  throw new Error(`${where}.${key} is missing or not a number/tensor`);
}

export function param<T>(c: CaseFile, key: string, fallback?: T): T {
  const v = c.params[key];
  if (v === undefined || v === null) {
    if (fallback !== undefined) return fallback;
    throw new Error(`params.${key} is missing`);
  }
  return v as T;
}

export interface Tolerance {
  /** |a - e| <= abs + rel * |e| (default 0, 0: exact). */
  abs?: number;
  rel?: number;
}

/**
 * Compares two arrays element by element. Exact comparison treats +0 and -0 as equal (the case files
 * do not encode the sign of zero) and NaN as equal to NaN. Returns null when everything is within tolerance.
 */
export function compare(output: string, expected: ArrayLike<number>, actual: ArrayLike<number>, tol: Tolerance = {}): Mismatch | null {
  if (expected.length !== actual.length) {
    return { output: `${output}.length`, index: -1, expected: expected.length, actual: actual.length, count: 1 };
  }
  const abs = tol.abs ?? 0;
  const rel = tol.rel ?? 0;
  let first = -1;
  let count = 0;
  for (let i = 0; i < expected.length; i++) {
    const e = expected[i];
    const a = actual[i];
    let ok: boolean;
    if (e === a || (e !== e && a !== a)) ok = true;
    else ok = Math.abs(a - e) <= abs + rel * Math.abs(e);
    if (!ok) {
      if (first < 0) first = i;
      count++;
    }
  }
  if (count === 0) return null;
  return { output, index: first, expected: expected[first], actual: actual[first], count };
}

/** Builds a CaseResult from the comparisons (nulls are passes). */
export function result(checks: (Mismatch | null)[]): CaseResult {
  const mismatches = checks.filter((m): m is Mismatch => m !== null);
  return { ok: mismatches.length === 0, mismatches };
}

export function errorResult(error: string): CaseResult {
  return { ok: false, mismatches: [], error };
}
