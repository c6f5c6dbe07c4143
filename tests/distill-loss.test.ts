/**
 * The distillation losses: the reference against finite differences (float64), the WebGPU kernels
 * against the reference, and the autograd functions (weighted and summed on a tape) against finite
 * differences on both backends.
 */
import { afterAll, describe, expect, it } from 'vitest';
import * as ref from '../src/engine/reference/distill-loss.ts';
import { createCpuBackend } from '../src/engine/reference/cpu-backend.ts';
import { Tape } from '../src/engine/autograd.ts';
import { addFn } from '../src/engine/fns/activation.ts';
import { mseLossFn, scaleFn, softKlLossFn } from '../src/engine/fns/distill-loss.ts';
import type { Backend } from '../src/engine/backend.ts';
import { destroyTestBackend, getTestBackend } from './helpers/gpu.ts';
import { expectClose, rand, rng } from './helpers/compare.ts';
import { checkGrad } from './helpers/reference-gradcheck.ts';

afterAll(destroyTestBackend);

const f64 = (a: Float32Array) => Float64Array.from(a);

describe('reference distillation losses against finite differences', () => {
  it('mseLoss: value and gradient 2 (a - b) / size', () => {
    const r = rng(1);
    const a = f64(rand(30, r)), b = f64(rand(30, r));
    const [loss, diff] = ref.mseLoss(a, b);
    let want = 0;
    for (let i = 0; i < 30; i++) want += (a[i] - b[i]) ** 2;
    expect(loss[0]).toBeCloseTo(want / 30, 12);
    const grad = ref.scaleByScalar(diff, Float64Array.of(1), 2 / 30);
    checkGrad('mse d/da', (x) => ref.mseLoss(x, b)[0], a, [1], grad);
  });

  it('softKlLoss: zero for equal logits, gradient (ps - pt) / N', () => {
    const r = rng(2);
    const N = 4, K = 6;
    const s = f64(rand(N * K, r, -3, 3)), t = f64(rand(N * K, r, -3, 3));
    expect(ref.softKlLoss(t, t, N, K)[0][0]).toBeCloseTo(0, 12);
    const [loss, delta] = ref.softKlLoss(s, t, N, K);
    expect(loss[0]).toBeGreaterThan(0); // KL is positive for different distributions
    checkGrad('kl d/ds', (x) => ref.softKlLoss(x, t, N, K)[0], s, [1], ref.scaleByScalar(delta, Float64Array.of(1), 1 / N));
  });

  it('softKlLoss stays finite for large logits', () => {
    const s = Float64Array.of(1000, -1000, 0), t = Float64Array.of(-1000, 1000, 0);
    const [loss] = ref.softKlLoss(s, t, 1, 3);
    expect(Number.isFinite(loss[0])).toBe(true);
    expect(loss[0]).toBeCloseTo(2000, 6);
  });
});

describe('WebGPU distillation kernels against the CPU reference', () => {
  const mseCases: [string, number[]][] = [['1 element', [1]], ['[3, 10]', [3, 10]], ['[4, 8, 16, 16] (several partials)', [4, 8, 16, 16]],
    ['[2, 64, 64, 40] (more elements than the grid)', [2, 64, 64, 40]]];
  it.each(mseCases.map(([n, s], i) => [n, s, i] as const))('mseLoss %s', async (_n, shape, i) => {
    const be = await getTestBackend();
    const live0 = be.liveTensors();
    const size = shape.reduce((p, d) => p * d, 1);
    const r = rng(10 + i);
    const a = rand(size, r, -2, 2), b = rand(size, r, -2, 2);
    const ta = be.upload(a, shape), tb = be.upload(b, shape), gy = be.upload(Float32Array.of(0.5), [1]);
    const [loss, diff] = be.mseLoss(ta, tb);
    const [wl, wd] = ref.mseLoss(a, b);
    expectClose(await be.read(loss), wl, 1e-5, 1e-7, 'loss');
    expectClose(await be.read(diff), wd, 1e-6, 1e-7, 'diff');
    const d = be.scaleByScalar(diff, gy, 2 / size);
    expectClose(await be.read(d), ref.scaleByScalar(wd, Float32Array.of(0.5), 2 / size), 1e-6, 1e-9, 'backward');
    for (const t of [ta, tb, gy, loss, diff, d]) be.release(t);
    expect(be.liveTensors()).toBe(live0);
  });

  const klCases: [number, number][] = [[1, 10], [7, 3], [300, 10], [2, 1000]];
  it.each(klCases.map(([n, k], i) => [`${n}x${k}`, n, k, i] as const))('softKlLoss %s', async (_n, N, K, i) => {
    const be = await getTestBackend();
    const live0 = be.liveTensors();
    const r = rng(20 + i);
    const s = rand(N * K, r, -6, 6), t = rand(N * K, r, -6, 6);
    if (N > 1) for (let k = 0; k < K; k++) { s[K + k] += 90; t[K + k] -= 90; } // needs the max subtraction
    const ts = be.upload(s, [N, K]), tt = be.upload(t, [N, K]);
    const [loss, delta] = be.softKlLoss(ts, tt);
    const [wl, wd] = ref.softKlLoss(s, t, N, K);
    expectClose(await be.read(loss), wl, 1e-4, 1e-6, 'loss');
    expectClose(await be.read(delta), wd, 1e-4, 1e-6, 'delta');
    for (const x of [ts, tt, loss, delta]) be.release(x);
    expect(be.liveTensors()).toBe(live0);
  });

  it('refuses mismatched shapes', async () => {
    const be = await getTestBackend();
    const a = be.upload(new Float32Array(6), [2, 3]), b = be.upload(new Float32Array(6), [3, 2]);
    expect(() => be.mseLoss(a, b)).toThrow(/differ/);
    expect(() => be.softKlLoss(a, b)).toThrow(/differ/);
    be.release(a);
    be.release(b);
  });
});

/** loss = mse(x, t1) + w * kl(x, t2) through the tape; gradient of x against finite differences of the reference. */
async function tapeGradCheck(be: Backend): Promise<void> {
  const N = 3, K = 5, w = 0.7;
  const r = rng(30);
  const x = rand(N * K, r, -2, 2), t1 = rand(N * K, r, -2, 2), t2 = rand(N * K, r, -2, 2);
  const live0 = be.liveTensors();
  const tape = new Tape(be, true, true);
  const { Var } = await import('../src/engine/autograd.ts');
  const xv = new Var(be.upload(x, [N, K]), true, 'x');
  const a = tape.apply(mseLossFn, [xv, tape.input(t1, [N, K])], null);
  const b = tape.apply(scaleFn, [tape.apply(softKlLossFn, [xv, tape.input(t2, [N, K])], null)], { c: w });
  const loss = tape.apply(addFn, [a, b], null);
  const seed = be.upload(Float32Array.of(1), [1]);
  tape.backward(loss, seed);
  const g = await be.read(xv.grad!);
  const objective = (v: Float64Array) => [ref.mseLoss(v, f64(t1))[0][0] + w * ref.softKlLoss(v, f64(t2), N, K)[0][0]];
  checkGrad(`${be.kind} tape gradient`, objective, f64(x), [1], g, 1e-3, 1e-5);
  tape.dispose();
  for (const t of [seed, xv.grad!, xv.value]) be.release(t);
  expect(be.liveTensors()).toBe(live0);
}

describe('distillation loss functions on the tape against finite differences', () => {
  it('CPU reference backend', () => tapeGradCheck(createCpuBackend()));
  it('WebGPU backend', async () => tapeGradCheck(await getTestBackend()));
});
