/**
 * Channel selection (slice and shuffle, src/engine/fns/channels.ts): Backend.gatherChannels in WGSL against the
 * CPU reference; the backward of slice and of the channel shuffle against central finite differences (float64
 * reference forward), on the CPU reference and on WebGPU (the same gradients).
 */
import { afterAll, describe, expect, it } from 'vitest';
import { sizeOf, type Backend, type Shape } from '../src/engine/backend.ts';
import { Tape, Var } from '../src/engine/autograd.ts';
import { gatherChannelsFn, inverseIndex, shuffleIndex, sliceChannelsFn } from '../src/engine/fns/channels.ts';
import * as ref from '../src/engine/reference/concat.ts';
import { createCpuBackend } from '../src/engine/reference/cpu-backend.ts';
import { destroyTestBackend, getTestBackend } from './helpers/gpu.ts';
import { checkGrad } from './helpers/reference-gradcheck.ts';
import { rand, rng } from './helpers/compare.ts';

afterAll(destroyTestBackend);

const cases: { name: string; shape: Shape; index: number[] }[] = [
  { name: 'shuffle 2 groups, NCHW 5x3, batch 3', shape: [3, 8, 5, 3], index: shuffleIndex(8, 2) },
  { name: 'shuffle 3 groups, [N, C] features', shape: [2, 12], index: shuffleIndex(12, 3) },
  { name: 'slice backward (inverse index with -1), batch 1', shape: [1, 6, 4, 4], index: inverseIndex([2, 3, 4], 6).slice(0, 6) },
  { name: 'repeated and reordered channels', shape: [2, 4, 3, 2], index: [3, 0, 0, 2, -1, 1] },
];

describe('gatherChannels: WGSL against the CPU reference', () => {
  it('the shuffle index is ShuffleNet\'s view [g, C/g] -> transpose -> view [C]', () => {
    // C = 6, g = 2: x viewed [2, 3] = [[0, 1, 2], [3, 4, 5]], transposed [[0, 3], [1, 4], [2, 5]]
    expect(shuffleIndex(6, 2)).toEqual([0, 3, 1, 4, 2, 5]);
    expect(shuffleIndex(6, 3)).toEqual([0, 2, 4, 1, 3, 5]);
    expect(inverseIndex([2, 3], 5)).toEqual([-1, -1, 0, 1, -1]);
    expect(() => inverseIndex([1, 1], 3)).toThrow(/twice/);
    expect(() => shuffleIndex(7, 2)).toThrow(/do not split/);
  });

  it.each(cases.map((c, i) => [c.name, c, i] as const))('%s', async (_n, c, i) => {
    const gpu = await getTestBackend();
    const live0 = gpu.liveTensors();
    const x = rand(sizeOf(c.shape), rng(70 + i));
    const want = ref.gatherChannels(x, c.shape, c.index);
    const cpu = createCpuBackend();
    for (const be of [cpu, gpu] as Backend[]) {
      const t = be.upload(x, c.shape);
      const y = be.gatherChannels(t, c.index);
      expect(y.shape).toEqual([c.shape[0], c.index.length, ...c.shape.slice(2)]);
      expect(await be.read(y), be.kind).toEqual(want);
      be.release(t);
      be.release(y);
    }
    expect(gpu.liveTensors()).toBe(live0);
    // zeros where the index is negative, the source channel elsewhere
    const inner = sizeOf(c.shape.slice(2));
    c.index.forEach((src, j) => {
      const v = want[j * inner];
      expect(v).toBe(src < 0 ? 0 : x[src * inner]);
    });
  });

  it('rejects an index outside the channels', async () => {
    const gpu = await getTestBackend();
    for (const be of [createCpuBackend(), gpu] as Backend[]) {
      const t = be.upload(new Float32Array(8), [2, 4]);
      expect(() => be.gatherChannels(t, [0, 4])).toThrow(/outside 4 channels/);
      be.release(t);
    }
  });
});

describe('slice and channel shuffle backward against finite differences', () => {
  const fnCases = [
    { name: 'slice channels 2:5 of [2, 7, 3, 3]', shape: [2, 7, 3, 3], fn: sliceChannelsFn, attrs: { start: 2, end: 5 },
      f: (x: Float64Array) => ref.sliceChannels(x, [2, 7, 3, 3], 2, 3) },
    { name: 'slice channels 0:1 of [3, 4]', shape: [3, 4], fn: sliceChannelsFn, attrs: { start: 0, end: 1 },
      f: (x: Float64Array) => ref.sliceChannels(x, [3, 4], 0, 1) },
    { name: 'shuffle 4 groups of [2, 8, 2, 3]', shape: [2, 8, 2, 3], fn: gatherChannelsFn, attrs: { index: shuffleIndex(8, 4) },
      f: (x: Float64Array) => ref.gatherChannels(x, [2, 8, 2, 3], shuffleIndex(8, 4)) },
  ] as const;
  for (const [i, c] of fnCases.entries()) {
    it(c.name, async () => {
      const r = rng(90 + i);
      const x = Float64Array.from(rand(sizeOf(c.shape), r));
      const yLen = c.f(x).length;
      const gy = Float64Array.from(rand(yLen, r));
      for (const be of [createCpuBackend(), await getTestBackend()] as Backend[]) {
        const tape = new Tape(be);
        const xv = new Var(be.upload(Float32Array.from(x), c.shape), true, 'x');
        const y = tape.apply(c.fn as typeof gatherChannelsFn, [xv], c.attrs as never);
        const seed = be.upload(Float32Array.from(gy), y.shape);
        tape.backward(y, seed);
        const dx = await be.read(xv.grad!);
        checkGrad(`${c.name} (${be.kind})`, c.f, x, gy, dx, 1e-6, 1e-6);
        be.release(seed);
        be.release(xv.grad!);
        tape.dispose();
        be.release(xv.value);
      }
    });
  }
});
