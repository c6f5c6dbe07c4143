/**
 * WebGPU batch-normalization kernels against the float32 CPU reference, on awkward shapes
 * (1x1 and 7x7 spatial, odd channel counts, batch 1 and 3, N*H*W not a multiple of 256, [N, C]).
 */
import { afterAll, beforeEach, describe, expect, it } from 'vitest';
import * as ref from '../src/engine/reference/batchnorm.ts';
import type { Backend, BTensor, Shape } from '../src/engine/backend.ts';
import { destroyTestBackend, getTestBackend } from './helpers/gpu.ts';
import { rng, rand } from './helpers/compare.ts';

afterAll(destroyTestBackend);

/** |got - want| <= atol + rtol * |want| everywhere; reports the worst element on failure. */
function expectClose(got: Float32Array, want: ArrayLike<number>, rtol: number, atol = rtol * 1e-2, what = ''): void {
  expect(got.length, `${what} length`).toBe(want.length);
  let worst = -1, worstExcess = 0;
  for (let i = 0; i < got.length; i++) {
    const err = Math.abs(got[i] - want[i]);
    const excess = err - (atol + rtol * Math.abs(want[i]));
    if (!(excess <= 0) && (worst < 0 || !(excess <= worstExcess))) { worst = i; worstExcess = excess; }
  }
  if (worst >= 0) {
    expect.fail(`${what}: element ${worst} is ${got[worst]}, expected ${want[worst]} (rtol ${rtol}, atol ${atol})`);
  }
}

let be: Backend;
let live0 = 0;
beforeEach(async () => {
  be = await getTestBackend();
  live0 = be.liveTensors();
});

async function readAll(...ts: BTensor[]): Promise<Float32Array[]> {
  return Promise.all(ts.map((t) => be.read(t)));
}

const shapes: Shape[] = [
  [3, 5, 7, 7], // M = 147
  [1, 3, 1, 1], // M = 1: zero variance
  [2, 7, 9, 15], // M = 270, just above one workgroup
  [1, 4, 17, 17], // M = 289
  [3, 11], // [N, C]
  [64, 3, 5, 5], // M = 1600, several elements per lane
];

describe('batchnorm kernels', () => {
  it.each(shapes.map((s, i) => [s.join('x'), s, i] as const))('bnStats %s', async (_n, shape, i) => {
    const r = rng(100 + i);
    const C = shape[1];
    const size = shape.reduce((a, b) => a * b, 1);
    // A large per-channel offset checks the two-pass (centered) variance.
    const x = rand(size, r);
    const HW = shape.length === 4 ? shape[2] * shape[3] : 1;
    for (let k = 0; k < size; k++) x[k] += 20 * (Math.floor(k / HW) % C) + 50;
    const [wm, wv] = ref.bnStats(x, shape);
    const tx = be.upload(x, shape);
    const [m, v] = be.bnStats(tx);
    expect(m.shape).toEqual([C]);
    const [gm, gv] = await readAll(m, v);
    expectClose(gm, wm, 1e-5, 1e-6, 'mean');
    expectClose(gv, wv, 1e-4, 1e-6, 'var');
    for (const t of [tx, m, v]) be.release(t);
    expect(be.liveTensors()).toBe(live0);
  });

  it.each(shapes.map((s, i) => [s.join('x'), s, i] as const))('bnForward and bnBackward %s', async (_n, shape, i) => {
    const r = rng(200 + i);
    const C = shape[1];
    const size = shape.reduce((a, b) => a * b, 1);
    const x = rand(size, r, -2, 3);
    const dy = rand(size, r);
    const gamma = rand(C, r, 0.5, 1.5), beta = rand(C, r);
    const eps = 1e-5;
    const [mean, variance] = ref.bnStats(x, shape);
    const runMean = rand(C, r, -0.5, 0.5), runVar = rand(C, r, 0.5, 2);
    const t = {
      x: be.upload(x, shape), dy: be.upload(dy, shape), gamma: be.upload(gamma, [C]), beta: be.upload(beta, [C]),
      mean: be.upload(mean as Float32Array, [C]), variance: be.upload(variance as Float32Array, [C]),
      runMean: be.upload(runMean, [C]), runVar: be.upload(runVar, [C]),
    };
    const y = be.bnForward(t.x, t.mean, t.variance, t.gamma, t.beta, eps);
    const yEval = be.bnForward(t.x, t.runMean, t.runVar, t.gamma, t.beta, eps);
    const train = be.bnBackward(t.dy, t.x, t.mean, t.variance, t.gamma, eps, true);
    const evalG = be.bnBackward(t.dy, t.x, t.runMean, t.runVar, t.gamma, eps, false);
    expect(y.shape).toEqual(shape);
    expect(train[0].shape).toEqual(shape);
    expect(train[1].shape).toEqual([C]);
    const [gy, gyEval, ...grads] = await readAll(y, yEval, ...train, ...evalG);
    expectClose(gy, ref.bnForward(x, shape, mean, variance, gamma, beta, eps), 1e-5, 1e-5, 'y');
    expectClose(gyEval, ref.bnForward(x, shape, runMean, runVar, gamma, beta, eps), 1e-5, 1e-6, 'y (eval)');
    const wantTrain = ref.bnBackward(dy, x, shape, mean, variance, gamma, eps, true);
    const wantEval = ref.bnBackward(dy, x, shape, runMean, runVar, gamma, eps, false);
    const names = ['dx', 'dgamma', 'dbeta'];
    // dx in training mode subtracts two reductions from dy: an absolute floor for cancellation.
    for (let k = 0; k < 3; k++) expectClose(grads[k], wantTrain[k], 1e-4, 1e-5, `${names[k]} (training)`);
    for (let k = 0; k < 3; k++) expectClose(grads[3 + k], wantEval[k], 1e-4, 1e-5, `${names[k]} (eval)`);
    for (const u of [...Object.values(t), y, yEval, ...train, ...evalG]) be.release(u);
    expect(be.liveTensors()).toBe(live0);
  });

  it('emaInPlace updates the running statistics in place', async () => {
    const r = rng(7);
    const C = 300; // more than one workgroup, not a multiple of 256
    const running = rand(C, r), batch = rand(C, r, 0, 2);
    const tr = be.upload(running, [C]), tb = be.upload(batch, [C]);
    const want = Float32Array.from(running);
    for (const [m, s] of [[0.1, 1], [0.1, 270 / 269], [0.5, 1]] as const) {
      be.emaInPlace(tr, tb, m, s);
      ref.emaInPlace(want, batch, m, s);
    }
    expectClose(await be.read(tr), want, 1e-5, 1e-7, 'running');
    be.release(tr);
    be.release(tb);
    expect(be.liveTensors()).toBe(live0);
  });

  // 65537 barrier-heavy workgroups take about 1 s on llvmpipe (the adapter tests use) but about 90 s
  // on SwiftShader: hence the long timeout rather than a skip.
  it('handles more than 65535 channels (2-D workgroup grid)', { timeout: 240_000 }, async () => {
    const C = 65537, N = 2;
    const r = rng(9);
    const x = rand(N * C, r);
    const tx = be.upload(x, [N, C]);
    const [m, v] = be.bnStats(tx);
    const [gm, gv] = await readAll(m, v);
    const [wm, wv] = ref.bnStats(x, [N, C]);
    expectClose(gm, wm, 1e-5, 1e-6, 'mean');
    expectClose(gv, wv, 1e-4, 1e-6, 'var');
    for (const t of [tx, m, v]) be.release(t);
    expect(be.liveTensors()).toBe(live0);
  });
});
