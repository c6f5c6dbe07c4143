/**
 * WebGPU channelScale (shaders/channel_scale.wgsl) against the float32 CPU reference, and the gradients of
 * channelScaleFn (the composed backward: the same op elementwise + channelSum) against the reference backward.
 */
import { afterAll, beforeEach, describe, expect, it } from 'vitest';
import type { Backend, ChannelLayout, Shape } from '../src/engine/backend.ts';
import { Tape, Var } from '../src/engine/autograd.ts';
import { channelScaleFn } from '../src/engine/fns/channel-scale.ts';
import { CpuBackend } from '../src/engine/reference/cpu-backend.ts';
import { channelScale, channelScaleBackward } from '../src/engine/reference/channel-scale.ts';
import { expectAllClose } from './helpers/reference-gradcheck.ts';
import { mulberry32, randn } from './helpers/random.ts';
import { destroyTestBackend, getTestBackend } from './helpers/gpu.ts';

afterAll(destroyTestBackend);

let gpu: Backend;
let live0 = 0;
beforeEach(async () => {
  gpu = await getTestBackend();
  live0 = gpu.liveTensors();
});

const cases: [string, Shape, ChannelLayout][] = [
  ['NCHW [2, 3, 5, 7]', [2, 3, 5, 7], { outer: 2, channels: 3, inner: 35 }],
  ['OIHW dim 0 [4, 3, 3, 3]', [4, 3, 3, 3], { outer: 1, channels: 4, inner: 27 }],
  ['[N, C] [5, 7]', [5, 7], { outer: 5, channels: 7, inner: 1 }],
  ['elementwise [300]', [300], { outer: 1, channels: 300, inner: 1 }],
  ['large [3, 5, 20, 20] (several workgroups)', [3, 5, 20, 20], { outer: 3, channels: 5, inner: 400 }],
];

function data(seed: number, l: ChannelLayout): { x: Float32Array; s: Float32Array; dy: Float32Array } {
  const rng = mulberry32(seed);
  const n = l.outer * l.channels * l.inner;
  const s = randn(rng, l.channels, Float32Array);
  for (let c = 0; c < s.length; c++) s[c] = Math.fround(Math.sign(s[c] || 1) * (0.25 + Math.abs(s[c])));
  return { x: randn(rng, n, Float32Array), s, dy: randn(rng, n, Float32Array) };
}

describe('channelScale kernel', () => {
  it.each(cases.map((c, i) => [...c, i] as const))('forward %s', async (_n, shape, l, i) => {
    const { x, s } = data(30 + i, l);
    const tx = gpu.upload(x, shape), ts = gpu.upload(s, [l.channels]);
    const ym = gpu.channelScale(tx, ts, l), yd = gpu.channelScale(tx, ts, l, true);
    expect(ym.shape).toEqual(shape);
    // multiplication is one correctly rounded op: bit-exact
    expect(Array.from(await gpu.read(ym))).toEqual(Array.from(channelScale(x, s, l)));
    // WGSL division: within a few ULP
    expectAllClose(await gpu.read(yd), channelScale(x, s, l, true), 1e-6, 0, 'divide');
    for (const t of [tx, ts, ym, yd]) gpu.release(t);
    expect(gpu.liveTensors()).toBe(live0);
  });

  it.each(cases.map((c, i) => [...c, i] as const))('channelScaleFn gradients %s (both backends)', async (_n, shape, l, i) => {
    const { x, s, dy } = data(60 + i, l);
    for (const divide of [false, true]) {
      const [wdx, wds] = channelScaleBackward(dy, x, s, l, divide);
      for (const be of [new CpuBackend(), gpu] as Backend[]) {
        const before = be.liveTensors();
        const tape = new Tape(be);
        const xv = new Var(be.upload(x, shape), true), sv = new Var(be.upload(s, [l.channels]), true);
        const y = tape.apply(channelScaleFn, [xv, sv], { layout: l, divide });
        const seed = tape.own(be.upload(dy, shape));
        tape.backward(y, seed);
        expect(sv.grad!.shape).toEqual([l.channels]);
        const what = `${be.kind} ${divide ? 'divide' : 'multiply'}`;
        expectAllClose(await be.read(xv.grad!), wdx, 1e-6, 1e-7, `${what} dx`);
        expectAllClose(await be.read(sv.grad!), wds, 1e-5, 1e-6, `${what} ds`);
        tape.dispose();
        for (const t of [xv.value, sv.value, xv.grad!, sv.grad!]) be.release(t);
        expect(be.liveTensors()).toBe(before);
      }
    }
  });
});
