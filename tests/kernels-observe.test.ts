/**
 * WebGPU observer reductions vs plain loops: per-tensor and per-channel min/max (odd sizes, one and many
 * workgroups, axis 0 / middle / last, NaN, +-inf, subnormals, -0), and torch.histc (small and 2048+ bins,
 * integer and fractional ranges, values on bin edges and equal to hi, outside values ignored, the lo == hi rule).
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { channelLayout } from '../src/quant/fake-quantize-ref.ts';
import { torchHistc } from '../src/quant/observers/histogram.ts';
import type { GpuContext, GpuTensor } from '../src/engine/webgpu/gpu-context.ts';
import { histc, histogram, minMax, minMaxPerChannel, readMinMax } from '../src/engine/webgpu/ops/observe.ts';
import { fileURLToPath } from 'node:url';
import { formatFailure, runConformance } from '../src/conformance/run.ts';
import { setConformanceBackend } from '../src/conformance/gpu-lease.ts';
import { destroyTestBackend, getTestBackend } from './helpers/gpu.ts';
import { rng } from './helpers/compare.ts';

const F = Math.fround;
let ctx: GpuContext;

beforeAll(async () => {
  ctx = (await getTestBackend()).ctx;
});
afterAll(() => {
  setConformanceBackend(null);
  destroyTestBackend();
});

function randn(n: number, r: () => number, scale = 1): Float32Array {
  return Float32Array.from({ length: n }, () => F((r() + r() + r() - 1.5) * 2 * scale));
}

async function readRelease(t: GpuTensor): Promise<Float32Array> {
  const v = await ctx.read(t);
  ctx.release(t);
  return v;
}

/** Plain loop: per-channel min/max, NaN skipped, [+inf, -inf] when nothing was seen. */
function loopMinMax(x: Float32Array, shape: number[], axis: number | null): { min: number[]; max: number[] } {
  const { channels, inner, outer } = axis === null ? { channels: 1, inner: x.length, outer: 1 } : channelLayout(shape, axis);
  const min = Array(channels).fill(Infinity);
  const max = Array(channels).fill(-Infinity);
  for (let o = 0; o < outer; o++) {
    for (let c = 0; c < channels; c++) {
      for (let k = 0; k < inner; k++) {
        const v = x[(o * channels + c) * inner + k];
        if (v < min[c]) min[c] = v;
        if (v > max[c]) max[c] = v;
      }
    }
  }
  return { min, max };
}

function expectValues(got: Float32Array, want: number[], what: string): void {
  expect(Array.from(got), what).toEqual(want.map(F));
}

describe('minMax per tensor', () => {
  for (const n of [1, 2, 255, 256, 257, 2049, 5000, 70001]) {
    it(`n = ${n}`, async () => {
      const r = rng(n);
      const x = randn(n, r, 3);
      if (n > 10) {
        x[Math.floor(r() * n)] = F(-123.5);
        x[n - 1] = F(77.25); // last element (tail of the last slice)
      }
      const t = ctx.upload(x, [n]);
      const [mn, mx] = minMax(ctx, t);
      expect(mn.shape).toEqual([1]);
      const want = loopMinMax(x, [n], null);
      expectValues(await readRelease(mn), want.min, 'min');
      expectValues(await readRelease(mx), want.max, 'max');
      ctx.release(t);
    });
  }

  it('NaN skipped, +-inf, subnormals, -0 vs +0', async () => {
    const cases: number[][] = [
      [NaN, 1, -2, NaN],
      [1e-45, 1e-40, -1e-39, 0],
      [1e-45, 1e-40, 3e-42],
      [-0, 0],
      [Infinity, -3, 2],
      [-Infinity, NaN, 5],
      [7, 7, 7],
    ];
    for (const c of cases) {
      const x = Float32Array.from(c);
      const t = ctx.upload(x, [x.length]);
      const { min, max } = await readMinMax(ctx, t);
      ctx.release(t);
      const want = loopMinMax(x, [x.length], null);
      // +0 and -0 compare equal here: the loop keeps the first of equal values, the GPU orders -0 below +0
      const z = (v: number) => (v === 0 ? 0 : v);
      expect([z(min[0]), z(max[0])], JSON.stringify(c)).toEqual([z(F(want.min[0])), z(F(want.max[0]))]);
    }
    // all NaN: nothing seen
    const t = ctx.upload(Float32Array.from([NaN, NaN, NaN]), [3]);
    const { min, max } = await readMinMax(ctx, t);
    ctx.release(t);
    expect([min[0], max[0]]).toEqual([Infinity, -Infinity]);
  });

  it('-0 is below +0 (so [-0, 0] gives min -0, max 0)', async () => {
    const t = ctx.upload(Float32Array.from([0, -0]), [2]);
    const { min, max } = await readMinMax(ctx, t);
    ctx.release(t);
    expect(Object.is(min[0], -0)).toBe(true);
    expect(Object.is(max[0], 0)).toBe(true);
  });
});

describe('minMax per channel', () => {
  const cases: [number[], number][] = [
    [[5, 3, 3, 3], 0],
    [[3, 5, 7], 1],
    [[3, 5, 7], 2],
    [[3, 5, 7], -1],
    [[1, 1], 0],
    [[2, 9, 300], 1],
    [[64, 4000], 0],
    [[7, 130], 1],
  ];
  for (const [shape, axis] of cases) {
    it(`[${shape}] axis ${axis}`, async () => {
      const n = shape.reduce((a, b) => a * b, 1);
      const r = rng(n + axis);
      const x = randn(n, r);
      for (let i = 0; i < n; i += 97) x[i] = F(x[i] * 50);
      const t = ctx.upload(x, shape);
      const [mn, mx] = minMaxPerChannel(ctx, t, axis);
      const want = loopMinMax(x, shape, axis);
      expect(mn.shape).toEqual([want.min.length]);
      expectValues(await readRelease(mn), want.min, 'min');
      expectValues(await readRelease(mx), want.max, 'max');
      ctx.release(t);
    });
  }

  it('a channel of NaN gives [+inf, -inf]; subnormal channels are exact', async () => {
    const x = Float32Array.from([NaN, NaN, 1e-45, -1e-45, 1e-40, 2e-40]);
    const t = ctx.upload(x, [3, 2]);
    const { min, max } = await readMinMax(ctx, t, channelLayout([3, 2], 0));
    ctx.release(t);
    expect(Array.from(min)).toEqual([Infinity, F(-1e-45), F(1e-40)]);
    expect(Array.from(max)).toEqual([-Infinity, F(1e-45), F(2e-40)]);
  });
});

describe('histogram (torch.histc bin rule)', () => {
  /** Values on every bin edge of [lo, hi] (as float32 computes them), hi itself, and just outside. */
  function edgeValues(bins: number, lo: number, hi: number): number[] {
    const out: number[] = [F(lo), F(hi), F(hi) + 1, F(lo) - 1, F(hi * (1 + 2 ** -22)), F(lo - Math.abs(lo) * 2 ** -22 - 1e-30)];
    const w = F(F(hi) - F(lo));
    for (let k = 0; k <= bins; k++) {
      const e = F(F(lo) + F(F(k * w) / bins));
      out.push(e, F(e * (1 + 2 ** -23)), F(e * (1 - 2 ** -23)));
    }
    return out;
  }

  const cases: [string, number, number, number, number][] = [
    // name, n random, bins, lo, hi
    ['2048 bins [-2, 2]', 3001, 2048, -2, 2],
    ['2048 bins [-3, 0]', 1000, 2048, -3, 0],
    ['10 bins [0.1, 0.7]', 517, 10, 0.1, 0.7],
    ['1 bin', 33, 1, -1, 1],
    ['3000 bins (global atomics) [-5, 7]', 4097, 3000, -5, 7],
    ['256 bins tiny range', 999, 256, 1e-3, 1.7e-3],
  ];
  for (const [name, n, bins, lo, hi] of cases) {
    it(name, async () => {
      const r = rng(n + bins);
      const span = hi - lo;
      const rand = Array.from({ length: n }, () => F(lo - span * 0.2 + r() * span * 1.4));
      const edges = bins <= 300 ? edgeValues(bins, lo, hi) : edgeValues(bins, lo, hi).filter((_, i) => i % 7 === 0);
      const x = Float32Array.from([...rand, ...edges, NaN]);
      const t = ctx.upload(x, [x.length]);
      const got = await readRelease(histogram(ctx, t, bins, lo, hi));
      ctx.release(t);
      const want = torchHistc(x, bins, lo, hi);
      // an independent loop with the same rule: count inside, check the total
      let inside = 0;
      for (const v of x) if (v >= F(lo) && v <= F(hi)) inside++;
      expect(want.reduce((a, b) => a + b, 0)).toBe(inside);
      let diff = 0;
      for (let i = 0; i < bins; i++) if (got[i] !== want[i]) diff++;
      expect(diff, `bins differing from torchHistc (first: ${got.findIndex((v, i) => v !== want[i])})`).toBe(0);
    });
  }

  it('values equal to hi go to the last bin; lo to the first; outside ignored', async () => {
    const x = Float32Array.from([0, 4, 4, 4, -0.001, 4.001, 2]);
    const t = ctx.upload(x, [x.length]);
    const got = await readRelease(histogram(ctx, t, 4, 0, 4));
    ctx.release(t);
    expect(Array.from(got)).toEqual([1, 0, 1, 3]);
  });

  it('histc: lo == hi uses the tensor range, and +-1 around a constant tensor', async () => {
    const x = Float32Array.from([0.25, 0.5, 0.75, 0.3, 0.5]);
    const t = ctx.upload(x, [x.length]);
    expect(Array.from(await readRelease(await histc(ctx, t, 5, 0, 0)))).toEqual(Array.from(torchHistc(x, 5, 0, 0)));
    ctx.release(t);
    const c = Float32Array.from([0.3, 0.3, 0.3]);
    const tc = ctx.upload(c, [3]);
    expect(Array.from(await readRelease(await histc(ctx, tc, 4, 0, 0)))).toEqual(Array.from(torchHistc(c, 4, 0, 0)));
    ctx.release(tc);
  });

  it('rejects bad ranges and bin counts', () => {
    const t = ctx.upload(new Float32Array(4), [4]);
    expect(() => histogram(ctx, t, 0, 0, 1)).toThrow(/bin/);
    expect(() => histogram(ctx, t, 4, 1, 1)).toThrow(/range/);
    ctx.release(t);
  });
});

describe('observer conformance cases on the webgpu backend (PyTorch 1.13 vectors)', () => {
  const CASES = fileURLToPath(new URL('./conformance/cases', import.meta.url));
  const kinds: [string, number][] = [
    ['observer_minmax', 20],
    ['observer_moving_average_minmax', 16],
    ['observer_per_channel_minmax', 16],
    ['observer_histogram', 22],
  ];
  for (const [kind, count] of kinds) {
    it(kind, async () => {
      setConformanceBackend(await getTestBackend());
      const s = await runConformance(CASES, { backends: ['webgpu'], kinds: [kind] });
      expect(s.outcomes.flatMap((o) => formatFailure(o))).toEqual([]);
      expect(s.passed).toBe(count);
    });
  }
});
