/** Central finite-difference gradient checks (float64) for the reference-op tests. */
import { expect } from 'vitest';

export type F64 = Float64Array;

export function dot(a: ArrayLike<number>, b: ArrayLike<number>): number {
  if (a.length !== b.length) throw new Error(`dot: ${a.length} vs ${b.length}`);
  let s = 0;
  for (let i = 0; i < a.length; i++) s += a[i] * b[i];
  return s;
}

/** Numerical gradient of the scalar objective x -> sum(f(x) * r) by central differences. */
export function numericGrad(f: (x: F64) => ArrayLike<number>, x: F64, r: ArrayLike<number>, h = 1e-6): F64 {
  const g = new Float64Array(x.length);
  const xp = Float64Array.from(x);
  for (let i = 0; i < x.length; i++) {
    const x0 = xp[i];
    xp[i] = x0 + h;
    const lp = dot(f(xp), r);
    xp[i] = x0 - h;
    const lm = dot(f(xp), r);
    xp[i] = x0;
    g[i] = (lp - lm) / (2 * h);
  }
  return g;
}

/**
 * Asserts |actual - expected| <= rtol * |expected| + atol * max(1, max|expected|) elementwise,
 * reporting the worst element.
 */
export function expectAllClose(
  actual: ArrayLike<number>, expected: ArrayLike<number>, rtol = 1e-5, atol = 1e-7, label = '',
): void {
  expect(actual.length, `${label} length`).toBe(expected.length);
  let scale = 1;
  for (let i = 0; i < expected.length; i++) scale = Math.max(scale, Math.abs(expected[i]));
  let worst = -1, worstExcess = 0;
  for (let i = 0; i < expected.length; i++) {
    const tol = rtol * Math.abs(expected[i]) + atol * scale;
    const err = Math.abs(actual[i] - expected[i]);
    if (!(err <= tol) && (worst < 0 || err - tol > worstExcess)) { worst = i; worstExcess = err - tol; }
  }
  if (worst >= 0) {
    expect.fail(`${label} element ${worst}: actual ${actual[worst]} expected ${expected[worst]} (excess ${worstExcess})`);
  }
}

/** Checks an analytic gradient of x -> sum(f(x) * r) against central differences. */
export function checkGrad(
  label: string, f: (x: F64) => ArrayLike<number>, x: F64, r: ArrayLike<number>, analytic: ArrayLike<number>,
  rtol = 1e-5, atol = 1e-7,
): void {
  const num = numericGrad(f, x, r);
  // The check must not be vacuous.
  expect(num.some((v) => Math.abs(v) > 1e-3), `${label}: numerical gradient is all ~0`).toBe(true);
  expectAllClose(analytic, num, rtol, atol, label);
}
