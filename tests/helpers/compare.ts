/** Shared by the kernel tests: a tiny seeded LCG, random tensors, and an elementwise closeness check. */
import { expect } from 'vitest';
import type { Backend, BTensor, Shape } from '../../src/engine/backend.ts';

export function rng(seed: number): () => number {
  let s = seed >>> 0;
  return () => {
    s = (Math.imul(s, 1664525) + 1013904223) >>> 0;
    return s / 4294967296;
  };
}

export function rand(n: number, r: () => number, lo = -1, hi = 1): Float32Array {
  return Float32Array.from({ length: n }, () => lo + (hi - lo) * r());
}

/** |got - want| <= atol + rtol * |want| everywhere; reports the worst element. */
export function expectClose(got: Float32Array, want: ArrayLike<number>, rtol: number, atol = rtol * 1e-2, what = ''): void {
  expect(got.length, `${what} length`).toBe(want.length);
  let worst = -1, worstExcess = 0;
  for (let i = 0; i < got.length; i++) {
    const excess = Math.abs(got[i] - want[i]) - (atol + rtol * Math.abs(want[i]));
    if (!(excess <= 0) && (worst < 0 || !(excess <= worstExcess))) { worst = i; worstExcess = excess; }
  }
  if (worst >= 0) {
    expect.fail(`${what}: element ${worst} is ${got[worst]}, expected ${want[worst]} (rtol ${rtol}, atol ${atol})`);
  }
}

/** |got - want| <= rtol * (|want| + max|want|) elementwise: for float32 sums taken in a different order. */
export function expectCloseToScale(got: Float32Array, want: Float32Array, what: string, rtol = 1e-4): void {
  expect(got.length, `${what}: length`).toBe(want.length);
  let scale = 0;
  for (const v of want) scale = Math.max(scale, Math.abs(v));
  let worst = 0, at = -1;
  for (let i = 0; i < want.length; i++) {
    const err = Math.abs(got[i] - want[i]) / (Math.abs(want[i]) + scale + 1e-30);
    if (!(err <= worst)) { worst = err; at = i; }
  }
  expect(worst, `${what}: worst relative error at ${at} (got ${got[at]}, want ${want[at]})`).toBeLessThanOrEqual(rtol);
}

/** Runs `f` on each backend (tensors made with `up` are released afterwards) and reads its result back. */
export async function onBackends(backends: Backend[], f: (be: Backend, up: (a: Float32Array, s: Shape) => BTensor) => BTensor): Promise<Float32Array[]> {
  const out: Float32Array[] = [];
  for (const be of backends) {
    const made: BTensor[] = [];
    const up = (a: Float32Array, s: Shape) => { const t = be.upload(a, s); made.push(t); return t; };
    const y = f(be, up);
    out.push(await be.read(y));
    be.release(y);
    for (const t of made) be.release(t);
  }
  return out;
}
