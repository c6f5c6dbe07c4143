/**
 * WebGPU channel concat/slice and softmax cross-entropy kernels against the float32 CPU reference.
 */
import { afterAll, beforeEach, describe, expect, it } from 'vitest';
import * as refCat from '../src/engine/reference/concat.ts';
import * as refLoss from '../src/engine/reference/loss.ts';
import { poolParams, sizeOf, type Backend, type BTensor, type Shape } from '../src/engine/backend.ts';
import { CpuBackend } from '../src/engine/reference/cpu-backend.ts';
import { destroyTestBackend, getTestBackend } from './helpers/gpu.ts';
import { rng, rand, expectClose } from './helpers/compare.ts';

afterAll(destroyTestBackend);

let be: Backend;
let live0 = 0;
beforeEach(async () => {
  be = await getTestBackend();
  live0 = be.liveTensors();
});

describe('concatChannels / sliceChannels', () => {
  const cases: [string, Shape[]][] = [
    ['three NCHW 7x7, batch 3', [[3, 2, 7, 7], [3, 5, 7, 7], [3, 1, 7, 7]]],
    ['single input, 1x1', [[1, 3, 1, 1]]],
    ['[N, C] features', [[3, 4], [3, 7]]],
    ['odd planes, batch 1', [[1, 3, 9, 15], [1, 1, 9, 15], [1, 6, 9, 15], [1, 2, 9, 15]]],
  ];
  it.each(cases.map((c, i) => [...c, i] as const))('%s', async (_n, shapes, i) => {
    const r = rng(40 + i);
    const xs = shapes.map((s) => rand(sizeOf(s), r));
    const ts = xs.map((x, j) => be.upload(x, shapes[j]));
    const y = be.concatChannels(ts);
    const C = shapes.reduce((a, s) => a + s[1], 0);
    const yShape = [shapes[0][0], C, ...shapes[0].slice(2)];
    expect(y.shape).toEqual(yShape);
    const want = refCat.concatChannels(xs, shapes);
    expect(await be.read(y)).toEqual(want);
    // Slicing the concatenation back gives every input (the backward of concat).
    let start = 0;
    for (let j = 0; j < shapes.length; j++) {
      const s = be.sliceChannels(y, start, shapes[j][1]);
      expect(s.shape).toEqual(shapes[j]);
      expect(await be.read(s)).toEqual(xs[j]);
      be.release(s);
      start += shapes[j][1];
    }
    // An interior slice that crosses input boundaries.
    if (C > 2) {
      const s = be.sliceChannels(y, 1, C - 2);
      expect(await be.read(s)).toEqual(refCat.sliceChannels(want, yShape, 1, C - 2));
      be.release(s);
    }
    for (const t of [...ts, y]) be.release(t);
    expect(be.liveTensors()).toBe(live0);
  });

  it('rejects mismatched shapes and out-of-range slices', () => {
    const a = be.upload(new Float32Array(2 * 3 * 4), [2, 3, 2, 2]);
    const b = be.upload(new Float32Array(2 * 3 * 6), [2, 3, 2, 3]);
    expect(() => be.concatChannels([a, b])).toThrow(/does not match/);
    expect(() => be.sliceChannels(a, 2, 2)).toThrow(/outside/);
    be.release(a);
    be.release(b);
    expect(be.liveTensors()).toBe(live0);
  });
});

describe('softmaxCrossEntropy', () => {
  const cases: [number, number][] = [[1, 10], [3, 7], [300, 10], [5, 1], [2, 1000]];
  it.each(cases.map(([n, k], i) => [`${n}x${k}`, n, k, i] as const))('%s', async (_name, N, K, i) => {
    const r = rng(50 + i);
    const logits = rand(N * K, r, -8, 8);
    if (N > 1) for (let k = 0; k < K; k++) logits[K + k] += 80; // large logits: needs the max subtraction
    const labels = Float32Array.from({ length: N }, () => Math.floor(r() * K));
    const tl = be.upload(logits, [N, K]), tlab = be.upload(labels, [N]);
    const [loss, probs] = be.softmaxCrossEntropy(tl, tlab);
    expect(loss.shape).toEqual([1]);
    expect(probs.shape).toEqual([N, K]);
    const [wLoss, wProbs] = refLoss.softmaxCrossEntropy(logits, labels, N, K);
    expectClose(await be.read(loss), wLoss, 1e-4, 1e-6, 'loss');
    const gProbs = await be.read(probs);
    expectClose(gProbs, wProbs, 1e-4, 1e-7, 'probs');
    const scale = 1 / N;
    const d = be.softmaxCrossEntropyBackward(probs, tlab, scale);
    expect(d.shape).toEqual([N, K]);
    // Compare against the reference backward of the GPU's own probs: isolates the backward kernel.
    expectClose(await be.read(d), refLoss.softmaxCrossEntropyBackward(gProbs, labels, N, K, scale), 1e-5, 1e-8, 'dlogits');
    for (const t of [tl, tlab, loss, probs, d]) be.release(t);
    expect(be.liveTensors()).toBe(live0);
  });

  it('gives a NaN loss for a label that is not a class index', async () => {
    const tl = be.upload(new Float32Array([1, 2, 3, 4, 5, 6]), [2, 3]);
    const tlab = be.upload(new Float32Array([1, 3]), [2]);
    const [loss, probs] = be.softmaxCrossEntropy(tl, tlab);
    expect((await be.read(loss))[0]).toBeNaN();
    for (const t of [tl, tlab, loss, probs]) be.release(t);
    expect(be.liveTensors()).toBe(live0);
  });
});

describe('a forward/backward chain through the Backend interface', () => {
  /** concat -> BN (batch stats) -> relu -> maxpool -> avgpool -> global avg -> CE, the backward
   *  of all of it, an Adam step and an EMA update; returns every intermediate, in order. */
  async function chain(b: Backend): Promise<[string, Float32Array, Shape][]> {
    const r = rng(99);
    const N = 3, C1 = 2, C2 = 3, C = C1 + C2, K = C;
    const keep: BTensor[] = [];
    const k = <T extends BTensor>(t: T): T => { keep.push(t); return t; };
    const x1 = k(b.upload(rand(N * C1 * 49, r), [N, C1, 7, 7]));
    const x2 = k(b.upload(rand(N * C2 * 49, r), [N, C2, 7, 7]));
    const gamma = k(b.upload(rand(C, r, 0.5, 1.5), [C])), beta = k(b.upload(rand(C, r), [C]));
    const labels = k(b.upload(Float32Array.from({ length: N }, () => Math.floor(r() * K)), [N]));
    const running = k(b.zeros([C])), m = k(b.zeros([C])), v = k(b.zeros([C]));
    const mp = poolParams(3, 2, 1), ap = poolParams(2, 1, 0);
    const out: [string, BTensor][] = [];
    const o = <T extends BTensor>(name: string, t: T): T => { out.push([name, k(t)]); return t; };
    const cat = o('cat', b.concatChannels([x1, x2]));
    const [mean, variance] = b.bnStats(cat);
    o('mean', mean); o('var', variance);
    const y = o('bn', b.bnForward(cat, mean, variance, gamma, beta, 1e-5));
    const relu = o('relu', b.clamp(y, 0, Infinity));
    const pooled = o('maxpool', b.maxPool2d(relu, mp));
    const avg = o('avgpool', b.avgPool2d(pooled, ap));
    const feats = o('gap', b.globalAvgPool(avg));
    const [loss, probs] = b.softmaxCrossEntropy(feats, labels);
    o('loss', loss); o('probs', probs);
    const dFeats = o('dgap', b.softmaxCrossEntropyBackward(probs, labels, 1 / N));
    const dAvg = o('davgpool', b.globalAvgPoolBackward(dFeats, avg.shape));
    const dPooled = o('dmaxpool', b.avgPool2dBackward(dAvg, pooled.shape, ap));
    const dRelu = o('drelu', b.maxPool2dBackward(dPooled, relu, mp));
    const dy = o('dbn', b.clampBackward(dRelu, y, 0, Infinity));
    const [dx, dgamma, dbeta] = b.bnBackward(dy, cat, mean, variance, gamma, 1e-5, true);
    o('dcat', dx); o('dgamma', dgamma); o('dbeta', dbeta);
    o('dx1', b.sliceChannels(dx, 0, C1));
    o('dx2', b.sliceChannels(dx, C1, C2));
    for (let step = 1; step <= 3; step++) {
      b.adamStepInPlace(gamma, dgamma, m, v, { lr: 0.1, beta1: 0.9, beta2: 0.999, eps: 1e-8, weightDecay: 0.01, decoupled: true, step });
      b.emaInPlace(running, variance, 0.1, (N * 49) / (N * 49 - 1));
    }
    out.push(['gamma after adam', gamma], ['running var', running]);
    const res: [string, Float32Array, Shape][] = [];
    for (const [name, t] of out) res.push([name, await b.read(t), t.shape]);
    for (const t of keep) b.release(t);
    return res;
  }

  it('matches CpuBackend at every step', async () => {
    const cpu = new CpuBackend();
    const want = await chain(cpu);
    const got = await chain(be);
    expect(got.map(([n, , s]) => [n, s])).toEqual(want.map(([n, , s]) => [n, s]));
    for (let i = 0; i < want.length; i++) expectClose(got[i][1], want[i][1], 1e-4, 1e-5, want[i][0]);
    expect(cpu.liveTensors()).toBe(0);
    expect(be.liveTensors()).toBe(live0);
  });
});
