/**
 * WebGPU fake quantization vs the CPU reference (src/quant/fake-quantize-ref.ts), bit for bit: per tensor and per
 * channel (axis 0, 1, -1), both rounding modes, int8 / uint8 / int16 / int4 / uint7 ranges, odd sizes, exact .5
 * points, near-.5 non-power-of-two values, outliers, x * inv overflowing to inf, NaN, subnormals; the STE backward
 * against the reference mask; the LSQ scale gradient against a float64 CPU formula.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  channelLayout, fakeQuantizeBackward as refBackward, fakeQuantizePerChannel as refPerChannel,
  fakeQuantizePerTensor as refPerTensor,
} from '../src/quant/fake-quantize-ref.ts';
import type { RoundingMode } from '../src/quant/rounding.ts';
import type { GpuContext } from '../src/engine/webgpu/gpu-context.ts';
import {
  type AdapterNumerics, type QuantRange, axisLayout, fakeQuantize, fakeQuantizeBackward, fakeQuantizePerChannel,
  fakeQuantizePerTensor, lsqScaleGrad, packQParams, perTensorLayout, probeNumerics, uploadQParams,
} from '../src/engine/webgpu/ops/fake-quant.ts';
import { fileURLToPath } from 'node:url';
import { formatFailure, runConformance } from '../src/conformance/run.ts';
import { setConformanceBackend } from '../src/conformance/gpu-lease.ts';
import { destroyTestBackend, getTestBackend } from './helpers/gpu.ts';
import { rng } from './helpers/compare.ts';

const F = Math.fround;
let ctx: GpuContext;
let numerics: AdapterNumerics;

beforeAll(async () => {
  ctx = (await getTestBackend()).ctx;
  numerics = await probeNumerics(ctx);
});
afterAll(() => {
  setConformanceBackend(null);
  destroyTestBackend();
});

const RANGES: Record<string, [number, number, number]> = {
  // name: [qmin, qmax, zero point]
  int8: [-128, 127, 0],
  uint8: [0, 255, 37],
  int16: [-32768, 32767, 0],
  int4: [-8, 7, 0],
  uint7: [0, 127, 64],
};

/**
 * x for a scale: normal values over ~1.3x the range, exact .5 points (k + 0.5) * scale, values within an ulp of
 * them, outliers, zeros, and (when `edge`) inf-overflow, NaN and subnormals.
 */
function makeX(n: number, scale: number, qmin: number, qmax: number, zp: number, r: () => number, edge: boolean): Float32Array {
  const x = new Float32Array(n);
  const span = (qmax - qmin) * scale;
  for (let i = 0; i < n; i++) {
    const k = i % 8;
    const q = Math.floor(qmin - zp - 3 + r() * (qmax - qmin + 6));
    if (k <= 2) x[i] = F((r() * 1.3 - 0.65) * span * 2);
    else if (k === 3) x[i] = F((q + 0.5) * scale);
    else if (k === 4) {
      const h = F((q + 0.5) * scale);
      x[i] = r() < 0.5 ? F(h * (1 + 2 ** -23)) : F(h * (1 - 2 ** -23));
    } else if (k === 5) x[i] = F((r() < 0.5 ? -1 : 1) * span * (10 + r() * 1000));
    else if (k === 6) x[i] = r() < 0.5 ? 0 : F(q * scale);
    else x[i] = F((r() - 0.5) * 4 * scale);
  }
  if (edge && n >= 8) {
    x[0] = 3.4e38; // x * inv overflows to +inf for scale < 1: the reference maps it to qmin, mask 0
    x[1] = -3.4e38;
    x[2] = NaN;
    x[3] = 1e-45;
    x[4] = -1e-39;
    x[5] = 1e-40;
  }
  return x;
}

/** Exact equality, NaN == NaN; +0 / -0 must match too. */
function expectSame(got: Float32Array, want: ArrayLike<number>, what: string): void {
  expect(got.length, `${what}: length`).toBe(want.length);
  let bad = 0;
  let first = -1;
  for (let i = 0; i < got.length; i++) {
    if (!Object.is(got[i], F(want[i]))) {
      bad++;
      if (first < 0) first = i;
    }
  }
  if (bad > 0) expect.fail(`${what}: ${bad} elements differ, first at ${first}: got ${got[first]}, want ${want[first]}`);
}

async function readRelease(t: Parameters<GpuContext['read']>[0]): Promise<Float32Array> {
  const v = await ctx.read(t);
  ctx.release(t);
  return v;
}

describe('adapter numerics', () => {
  it('WGSL round() is half to even on this adapter; subnormal handling is reported', () => {
    console.log(`fake-quant numerics on this adapter: ${JSON.stringify(numerics)}`);
    expect(numerics.roundHalfEven).toBe(true);
  });
});

describe('fake quant per tensor (bit-exact)', () => {
  const sizes = [1, 9, 257, 1031];
  const roundings: RoundingMode[] = ['half_even', 'bpu_round'];
  let seed = 1;
  for (const [name, [qmin, qmax, zp]] of Object.entries(RANGES)) {
    for (const rounding of roundings) {
      it(`${name} ${rounding}`, async () => {
        for (const n of sizes) {
          const r = rng(seed++);
          for (const scale of [F(0.0173), 2 ** -5, F(3.7), 2 ** -120]) {
            const x = makeX(n, scale, qmin, qmax, zp, r, scale !== 2 ** -120 || numerics.subnormals);
            const g = Float32Array.from({ length: n }, () => F(r() * 2 - 1));
            const range: QuantRange = { quantMin: qmin, quantMax: qmax, rounding };
            const ref = refPerTensor(x, scale, zp, qmin, qmax, rounding);
            const tx = ctx.upload(x, [n]);
            const tg = ctx.upload(g, [n]);
            const { out, mask } = fakeQuantizePerTensor(ctx, tx, scale, zp, range, true);
            const qp = uploadQParams(ctx, [scale], [zp]);
            const gx = fakeQuantizeBackward(ctx, tg, tx, qp, perTensorLayout(n), range);
            const what = `${name} ${rounding} n=${n} scale=${scale}`;
            expectSame(await readRelease(out), ref.out, `${what} out`);
            expectSame(await readRelease(mask!), ref.mask, `${what} mask`);
            expectSame(await readRelease(gx), refBackward(g, ref.mask), `${what} grad_x`);
            for (const t of [tx, tg, qp]) ctx.release(t);
          }
        }
      });
    }
  }

  it('forward without mask equals forward_mask.out; no tensor leaks', async () => {
    const live = ctx.pool.live;
    const x = makeX(333, 0.05, -128, 127, 0, rng(99), true);
    const tx = ctx.upload(x, [333]);
    const a = fakeQuantizePerTensor(ctx, tx, 0.05, 0, { quantMin: -128, quantMax: 127 });
    expect(a.mask).toBeUndefined();
    expectSame(await readRelease(a.out), refPerTensor(x, 0.05, 0, -128, 127).out, 'out');
    ctx.release(tx);
    expect(ctx.pool.live).toBe(live);
  });

  it('subnormal scale and inputs (exact only where the adapter keeps subnormals)', async () => {
    // scale 2^-130 is subnormal: inv = 2^130 overflows to inf in float32, so every nonzero x gives +-inf and NaN
    // for x = 0 (the reference: qmin, mask 0). scale 2^-126 (smallest normal): subnormal x quantize to 0..1.
    for (const scale of [2 ** -130, 2 ** -126, F(1.5 * 2 ** -126)]) {
      const x = Float32Array.from([0, 1e-45, -1e-45, 1e-40, 5.8e-39, -5.8e-39, 1.1e-38, 2 ** -126, -(2 ** -127), 3e-38]);
      const ref = refPerTensor(x, scale, 0, -128, 127);
      const tx = ctx.upload(x, [x.length]);
      const { out, mask } = fakeQuantizePerTensor(ctx, tx, scale, 0, { quantMin: -128, quantMax: 127 }, true);
      const o = await readRelease(out);
      const m = await readRelease(mask!);
      ctx.release(tx);
      if (numerics.subnormals) {
        expectSame(o, ref.out, `scale ${scale} out`);
        expectSame(m, ref.mask, `scale ${scale} mask`);
      } else {
        console.log(`subnormals flushed: scale ${scale} out ${Array.from(o)} vs reference ${Array.from(ref.out)}`);
      }
    }
  });
});

describe('fake quant per channel (bit-exact)', () => {
  const shapes: [number[], number][] = [
    [[5, 3, 3, 3], 0],
    [[4, 7, 5], 1],
    [[3, 6, 2, 3], 1],
    [[10, 33], -1],
    [[1, 1], 0],
    [[17], 0],
  ];
  let seed = 100;
  for (const [shape, axis] of shapes) {
    for (const [name, [qmin, qmax, zp0]] of Object.entries(RANGES)) {
      for (const rounding of ['half_even', 'bpu_round'] as RoundingMode[]) {
        it(`[${shape}] axis ${axis} ${name} ${rounding}`, async () => {
          const r = rng(seed++);
          const { channels, inner, outer } = channelLayout(shape, axis);
          const n = channels * inner * outer;
          const scales = Array.from({ length: channels }, (_, c) => (c % 3 === 0 ? 2 ** -(3 + (c % 5)) : F(0.001 + r() * 0.2)));
          const zps = Array.from({ length: channels }, (_, c) => (zp0 === 0 ? 0 : Math.min(qmax, zp0 + (c % 4) - 2)));
          // channel c gets values drawn for its own scale
          const x = new Float32Array(n);
          for (let c = 0; c < channels; c++) {
            const xc = makeX(outer * inner, scales[c], qmin, qmax, zps[c], r, c === 1);
            let j = 0;
            for (let o = 0; o < outer; o++) for (let k = 0; k < inner; k++) x[(o * channels + c) * inner + k] = xc[j++];
          }
          const g = Float32Array.from({ length: n }, () => F(r() * 2 - 1));
          const range: QuantRange = { quantMin: qmin, quantMax: qmax, rounding };
          const ref = refPerChannel(x, shape, scales, zps, axis, qmin, qmax, rounding);
          const tx = ctx.upload(x, shape);
          const tg = ctx.upload(g, shape);
          const { out, mask } = fakeQuantizePerChannel(ctx, tx, scales, zps, axis, range, true);
          const qp = uploadQParams(ctx, scales, zps);
          const gx = fakeQuantizeBackward(ctx, tg, tx, qp, axisLayout(shape, axis), range);
          expectSame(await readRelease(out), ref.out, 'out');
          expectSame(await readRelease(mask!), ref.mask, 'mask');
          expectSame(await readRelease(gx), refBackward(g, ref.mask), 'grad');
          for (const t of [tx, tg, qp]) ctx.release(t);
        });
      }
    }
  }

  it('qparams can change between steps without a new pipeline (buffer, not shader text)', async () => {
    const x = Float32Array.from({ length: 64 }, (_, i) => F((i - 32) * 0.037));
    const tx = ctx.upload(x, [4, 16]);
    const layout = axisLayout([4, 16], 0);
    const range = { quantMin: -8, quantMax: 7 };
    const pipelines0 = ctx.pipelines.size;
    for (let step = 0; step < 3; step++) {
      const scales = [0.1, 0.05, 0.2, 0.01].map((s) => s * (1 + step / 10));
      const qp = uploadQParams(ctx, scales, [0, 0, 0, 0]);
      const { out } = fakeQuantize(ctx, tx, qp, layout, range);
      expectSame(await readRelease(out), refPerChannel(x, [4, 16], scales, [0, 0, 0, 0], 0, -8, 7).out, `step ${step}`);
      ctx.release(qp);
    }
    expect(ctx.pipelines.size - pipelines0).toBeLessThanOrEqual(1);
    ctx.release(tx);
  });

  it('rejects mismatched layouts, qparams and ranges', () => {
    const tx = ctx.upload(new Float32Array(6), [2, 3]);
    const qp = uploadQParams(ctx, [1, 1], [0, 0]);
    expect(() => fakeQuantize(ctx, tx, qp, { outer: 1, channels: 3, inner: 2 }, { quantMin: 0, quantMax: 1 })).toThrow(/channels/);
    expect(() => fakeQuantize(ctx, tx, qp, { outer: 1, channels: 2, inner: 2 }, { quantMin: 0, quantMax: 1 })).toThrow(/layout/);
    expect(() => fakeQuantize(ctx, tx, qp, axisLayout([2, 3], 0), { quantMin: 2, quantMax: 1 })).toThrow(/range/);
    expect(() => packQParams([1], [0.5])).toThrow(/zero point/);
    ctx.release(tx);
    ctx.release(qp);
  });
});

describe('LSQ scale gradient', () => {
  /** Esser et al.: d out/d s = round(x/s) - x/s inside, qmin - zp / qmax - zp outside; x/s as f32(x * inv). */
  function cpuLsq(x: Float32Array, g: Float32Array, scale: number, zp: number, qmin: number, qmax: number,
    rounding: RoundingMode, factor: number): { sum: number; absSum: number } {
    const ref = refPerTensor(x, scale, zp, qmin, qmax, rounding);
    const inv = F(1 / F(scale));
    let sum = 0;
    let absSum = 0;
    for (let i = 0; i < x.length; i++) {
      const t = F(x[i] * inv);
      const rr = rounding === 'half_even' ? ref.q[i] - zp : Math.floor(F(t + 0.5));
      const d = ref.mask[i] ? F(rr - t) : ref.q[i] - zp;
      sum += g[i] * d;
      absSum += Math.abs(g[i] * d);
    }
    return { sum: sum * factor, absSum: absSum * factor };
  }

  for (const [name, n, qmin, qmax, zp, rounding] of [
    ['int8 sym', 1000, -128, 127, 0, 'half_even'],
    ['uint8 affine', 4099, 0, 255, 37, 'half_even'],
    ['int4 bpu', 70001, -8, 7, 0, 'bpu_round'],
  ] as [string, number, number, number, number, RoundingMode][]) {
    it(`${name}, n=${n}`, async () => {
      const r = rng(n);
      const scale = F(0.021);
      const x = makeX(n, scale, qmin, qmax, zp, r, false);
      const g = Float32Array.from({ length: n }, () => F(r() * 2 - 1));
      const factor = 1 / Math.sqrt(n * qmax);
      const want = cpuLsq(x, g, scale, zp, qmin, qmax, rounding, factor);
      const tx = ctx.upload(x, [n]);
      const tg = ctx.upload(g, [n]);
      const qp = uploadQParams(ctx, [scale], [zp]);
      const got = (await readRelease(lsqScaleGrad(ctx, tg, tx, qp, { quantMin: qmin, quantMax: qmax, rounding }, F(factor))))[0];
      for (const t of [tx, tg, qp]) ctx.release(t);
      // float32 tree sum vs float64: error bounded by ~log2(n) * 2^-24 * sum|terms|
      expect(Math.abs(got - want.sum)).toBeLessThanOrEqual(1e-5 * want.absSum + 1e-12);
    });
  }
});

describe('fake quant conformance cases on the webgpu backend (PyTorch 1.13 vectors)', () => {
  const CASES = fileURLToPath(new URL('./conformance/cases', import.meta.url));
  const kinds: [string, number][] = [
    ['fake_quant_per_tensor', 18],
    ['fake_quant_per_channel', 13],
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
