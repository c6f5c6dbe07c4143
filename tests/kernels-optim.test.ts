/**
 * WebGPU optimizer steps against the float32 CPU reference: several steps in a row with fresh
 * gradients, parameters and optimizer state compared after every step.
 */
import { afterAll, beforeEach, describe, expect, it } from 'vitest';
import * as ref from '../src/engine/reference/optim.ts';
import type { AdamParams, Backend, SgdParams } from '../src/engine/backend.ts';
import { destroyTestBackend, getTestBackend } from './helpers/gpu.ts';
import { rng, rand, expectClose } from './helpers/compare.ts';

afterAll(destroyTestBackend);

let be: Backend;
let live0 = 0;
beforeEach(async () => {
  be = await getTestBackend();
  live0 = be.liveTensors();
});

const STEPS = 5;
const SIZES = [7, 1000]; // 1000: several workgroups, not a multiple of 256

const sgdCases: [string, SgdParams][] = [
  ['plain', { lr: 0.1, momentum: 0, dampening: 0, weightDecay: 0, nesterov: false }],
  ['plain + weight decay', { lr: 0.05, momentum: 0, dampening: 0, weightDecay: 0.01, nesterov: false }],
  ['momentum + dampening + weight decay', { lr: 0.1, momentum: 0.9, dampening: 0.1, weightDecay: 5e-4, nesterov: false }],
  ['nesterov', { lr: 0.02, momentum: 0.8, dampening: 0, weightDecay: 1e-3, nesterov: true }],
];

const adamCases: [string, Omit<AdamParams, 'step'>][] = [
  ['Adam', { lr: 1e-3, beta1: 0.9, beta2: 0.999, eps: 1e-8, weightDecay: 0, decoupled: false }],
  ['Adam + L2', { lr: 1e-2, beta1: 0.8, beta2: 0.99, eps: 1e-6, weightDecay: 0.05, decoupled: false }],
  ['AdamW', { lr: 1e-2, beta1: 0.9, beta2: 0.999, eps: 1e-8, weightDecay: 0.1, decoupled: true }],
];

describe('optimizer kernels', () => {
  for (const n of SIZES) {
    it.each(sgdCases.map((c, i) => [...c, i] as const))(`SGD %s, ${n} elements`, async (_name, p, i) => {
      const r = rng(60 + i + n);
      const param = rand(n, r);
      const mom = p.momentum !== 0 ? new Float32Array(n) : null;
      const tp = be.upload(param, [n]);
      const tm = mom ? be.zeros([n]) : null;
      for (let step = 0; step < STEPS; step++) {
        const grad = rand(n, r);
        const tg = be.upload(grad, [n]);
        be.sgdStepInPlace(tp, tg, tm, p, step === 0);
        ref.sgdStepInPlace(param, grad, mom, p, step === 0);
        be.release(tg);
        expectClose(await be.read(tp), param, 1e-5, 1e-6, `param after step ${step + 1}`);
        if (tm && mom) expectClose(await be.read(tm), mom, 1e-5, 1e-6, `momentum after step ${step + 1}`);
      }
      be.release(tp);
      if (tm) be.release(tm);
      expect(be.liveTensors()).toBe(live0);
    });

    it.each(adamCases.map((c, i) => [...c, i] as const))(`%s, ${n} elements`, async (_name, hp, i) => {
      const r = rng(70 + i + n);
      const param = rand(n, r);
      const m = new Float32Array(n), v = new Float32Array(n);
      const tp = be.upload(param, [n]), tm = be.zeros([n]), tv = be.zeros([n]);
      for (let step = 1; step <= STEPS; step++) {
        const grad = rand(n, r, -0.5, 0.5);
        const tg = be.upload(grad, [n]);
        const p: AdamParams = { ...hp, step };
        be.adamStepInPlace(tp, tg, tm, tv, p);
        ref.adamStepInPlace(param, grad, m, v, p);
        be.release(tg);
        expectClose(await be.read(tp), param, 1e-5, 1e-6, `param after step ${step}`);
        expectClose(await be.read(tm), m, 1e-5, 1e-7, `m after step ${step}`);
        expectClose(await be.read(tv), v, 1e-5, 1e-9, `v after step ${step}`);
      }
      for (const t of [tp, tm, tv]) be.release(t);
      expect(be.liveTensors()).toBe(live0);
    });
  }

  it('rejects a missing momentum buffer and mismatched sizes', () => {
    const a = be.upload(new Float32Array(4), [4]), b = be.upload(new Float32Array(5), [5]);
    expect(() => be.sgdStepInPlace(a, a, null, sgdCases[2][1], true)).toThrow(/momentum buffer/);
    expect(() => be.adamStepInPlace(a, b, a, a, { ...adamCases[0][1], step: 1 })).toThrow(/does not match/);
    be.release(a);
    be.release(b);
    expect(be.liveTensors()).toBe(live0);
  });
});
