/**
 * Every GPU integer kernel (src/sim/gpu/kernels.ts) against its CPU kernel (src/sim/int) on random cases: both
 * requant modes, int8 / uint8 / int16 activations, depthwise and grouped conv, stride 2, padding, dilation, odd
 * sizes, extreme multipliers and shifts, saturation, int32 accumulator outputs. 100 % equal, element for element.
 * Shapes are small (the test adapter is a software rasterizer on a shared CPU).
 */
import { afterAll, describe, expect, it } from 'vitest';
import { addInt, computeAddParams, type AddParams } from '../src/sim/int/add.ts';
import { conv2dAccumulate, conv2dInt, type Conv2dGeometry, type QConv2dInput } from '../src/sim/int/conv2d.ts';
import { linearAccumulate, linearInt, type QLinearInput } from '../src/sim/int/linear.ts';
import { avgPool2dInt, avgPool2dSums, avgPoolRequantSpec, globalAvgPoolInt, maxPool2dInt } from '../src/sim/int/pool.ts';
import { relu6Int, reluInt } from '../src/sim/int/relu.ts';
import { DTYPE_RANGE, allocInt, type IntArray, type OutputSpec, type QDType, type RequantSpec } from '../src/sim/int/requant.ts';
import { createGpuIntKernels, type GpuIntKernels } from '../src/sim/gpu/kernels.ts';
import { destroyTestBackend, getTestBackend } from './helpers/gpu.ts';

afterAll(destroyTestBackend);

function rng(seed: number): () => number {
  let s = seed >>> 0;
  return () => {
    s = (s + 0x6d2b79f5) >>> 0;
    let t = s;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

let kernels: GpuIntKernels | null = null;
async function gpu(): Promise<GpuIntKernels> {
  kernels ??= createGpuIntKernels((await getTestBackend()).ctx);
  return kernels;
}

const ACT: Array<'int8' | 'uint8' | 'int16'> = ['int8', 'uint8', 'int16'];
const OUT: QDType[] = ['int8', 'uint8', 'int16', 'int32'];

function randInt(r: () => number, dtype: QDType, n: number): IntArray {
  const [lo, hi] = DTYPE_RANGE[dtype];
  const a = allocInt(dtype, n);
  for (let i = 0; i < n; i++) a[i] = i % 13 === 0 ? (i % 26 === 0 ? lo : hi) : lo + Math.floor(r() * (hi - lo + 1));
  return a;
}

function randZp(r: () => number, dtype: QDType): number {
  const [lo, hi] = DTYPE_RANGE[dtype];
  return dtype === 'int16' ? Math.floor((r() - 0.5) * 2000) : lo + Math.floor(r() * (hi - lo + 1));
}

/** Random spec: horizon (normalised, extreme, denormalised multipliers, shifts 0..63) or pytorch (f32). */
function randSpec(r: () => number, channels: number, mode: 'horizon' | 'pytorch'): RequantSpec {
  const n = r() < 0.2 ? 1 : channels;
  if (mode === 'horizon') {
    const multiplier = new Int32Array(n);
    const shift = new Int32Array(n);
    for (let c = 0; c < n; c++) {
      const pick = r();
      multiplier[c] = pick < 0.1 ? 0x7fffffff : pick < 0.2 ? 0x40000000 : pick < 0.25 ? Math.floor(r() * 1000) : 0x40000000 + Math.floor(r() * 0x3fffffff);
      // typical conv shifts (~30..45) most of the time, extremes sometimes
      shift[c] = r() < 0.15 ? [0, 1, 31, 32, 62, 63][Math.floor(r() * 6)] : 28 + Math.floor(r() * 22);
    }
    return { mode, multiplier, shift };
  }
  const multiplier = new Float32Array(n);
  for (let c = 0; c < n; c++) multiplier[c] = r() < 0.1 ? [0.5, 1, 2 ** -20, 3.75][Math.floor(r() * 4)] : Math.fround(2 ** (-18 + r() * 14));
  return { mode, multiplier };
}

function randOut(r: () => number, t: number): OutputSpec {
  const dtype = OUT[t % OUT.length];
  if (dtype === 'int32' && t % 8 === 3) return { dtype: 'int32' }; // accumulator output
  const zp = dtype === 'int32' ? Math.floor((r() - 0.5) * 100) : randZp(r, dtype);
  const out: OutputSpec = { dtype, zeroPoint: zp };
  if (r() < 0.3) out.clampMin = zp;
  if (r() < 0.15) out.clampMax = zp + 1 + Math.floor(r() * 60);
  return out;
}

function same(got: IntArray, want: IntArray): void {
  expect(got.constructor).toBe(want.constructor);
  expect(got.length).toBe(want.length);
  let bad = -1;
  for (let i = 0; i < want.length; i++) if (got[i] !== want[i]) { bad = i; break; }
  expect(bad === -1 ? null : { index: bad, got: got[bad], want: want[bad] }).toBe(null);
}

describe('conv2d: GPU equals CPU', () => {
  it('random geometries (groups, depthwise, stride, padding, dilation, odd sizes), dtypes, both modes', async () => {
    const k = await gpu();
    const r = rng(21);
    let elements = 0;
    for (let t = 0; t < 40; t++) {
      const N = 1 + Math.floor(r() * 3);
      const kind = t % 4; // 0 dense, 1 depthwise, 2 grouped, 3 1x1 / stride 2
      const groups0 = kind === 1 ? 0 : kind === 2 ? 2 : 1;
      const C = kind === 1 ? 1 + Math.floor(r() * 6) : groups0 * (1 + Math.floor(r() * 4));
      const groups = kind === 1 ? C : groups0;
      // O / groups in {4, 8}: the 4-channels-per-invocation entry (conv2d_oc4); otherwise the generic entry
      const O = kind === 1 ? C * (1 + Math.floor(r() * 2)) : groups * [1, 2, 3, 4, 8][Math.floor(r() * 5)];
      const KH = kind === 3 ? 1 : 1 + Math.floor(r() * 3);
      const KW = kind === 3 ? 1 : 1 + Math.floor(r() * 3);
      const geom: Conv2dGeometry = {
        stride: [1 + Math.floor(r() * 2), 1 + Math.floor(r() * 2)],
        padding: [Math.floor(r() * 3), Math.floor(r() * 2)],
        dilation: [1 + Math.floor(r() * 2), 1 + Math.floor(r() * 2)],
        groups,
      };
      const H = 5 + Math.floor(r() * 6);
      const W = 4 + Math.floor(r() * 7);
      const xd = ACT[t % 3];
      const input: QConv2dInput = {
        x: randInt(r, xd, N * C * H * W) as Int8Array,
        xShape: [N, C, H, W],
        xZeroPoint: randZp(r, xd),
        w: randInt(r, 'int8', O * (C / groups) * KH * KW) as Int8Array,
        wShape: [O, C / groups, KH, KW],
        bias: r() < 0.8 ? Int32Array.from({ length: O }, () => Math.floor((r() - 0.5) * 2 ** (8 + r() * 22))) : null,
      };
      const out = randOut(r, t);
      const spec = out.dtype === 'int32' && out.zeroPoint === undefined ? null : randSpec(r, O, t % 2 === 0 ? 'horizon' : 'pytorch');
      let want: ReturnType<typeof conv2dInt>;
      try {
        want = conv2dInt(input, geom, spec, out);
      } catch (e) {
        // e.g. an empty output (dilated kernel larger than the padded input): the GPU kernel rejects it too
        await expect(k.conv2dInt(input, geom, spec, out)).rejects.toThrow((e as Error).message);
        continue;
      }
      const got = await k.conv2dInt(input, geom, spec, out);
      expect(got.shape).toEqual(want.shape);
      same(got.data, want.data);
      elements += want.data.length;
      if (t % 10 === 0) {
        const a = conv2dAccumulate(input, geom);
        same((await k.conv2dAccumulate(input, geom)).acc, a.acc);
      }
    }
    expect(elements).toBeGreaterThan(2000);
  });

  it('int32 wrap-around of the accumulator (int16 extremes, many channels) and saturation', async () => {
    const k = await gpu();
    const C = 300; // 300 * 9 * 65535 * 128 > 2^31: the sum wraps
    const input: QConv2dInput = {
      x: new Int16Array(C * 3 * 3).fill(32767),
      xShape: [1, C, 3, 3],
      xZeroPoint: -32768,
      w: new Int8Array(2 * C * 9).fill(-128).map((v, i) => (i < C * 9 ? v : 127)),
      wShape: [2, C, 3, 3],
      bias: Int32Array.of(2147483647, -2147483648),
    };
    const geom = { padding: 1 };
    same((await k.conv2dAccumulate(input, geom)).acc, conv2dAccumulate(input, geom).acc);
    for (const spec of [
      { mode: 'horizon', multiplier: Int32Array.of(0x7fffffff), shift: Int32Array.of(0) },
      { mode: 'pytorch', multiplier: Float32Array.of(1e6) },
    ] as RequantSpec[]) {
      for (const out of [{ dtype: 'int8', zeroPoint: 3 }, { dtype: 'int32', zeroPoint: -7 }, { dtype: 'uint8', zeroPoint: 0, clampMin: 0, clampMax: 6 }] as OutputSpec[]) {
        same((await k.conv2dInt(input, geom, spec, out)).data, conv2dInt(input, geom, spec, out).data);
      }
    }
  });

  it('rejects what the CPU kernel rejects', async () => {
    const k = await gpu();
    const input: QConv2dInput = { x: new Int8Array(16), xShape: [1, 1, 4, 4], xZeroPoint: 0, w: new Int8Array(9), wShape: [1, 1, 3, 3] };
    await expect(k.conv2dInt({ ...input, x: new Float32Array(16) as unknown as Int8Array }, {}, null, { dtype: 'int32' })).rejects.toThrow(TypeError);
    await expect(k.conv2dInt({ ...input, xShape: [1, 2, 4, 4] }, {}, null, { dtype: 'int32' })).rejects.toThrow(RangeError);
    await expect(k.conv2dInt(input, { groups: 2 }, null, { dtype: 'int32' })).rejects.toThrow(/groups/);
    await expect(k.conv2dInt(input, {}, null, { dtype: 'int8' })).rejects.toThrow(/RequantSpec/);
  });
});

describe('linear: GPU equals CPU', () => {
  it('random sizes, dtypes, both modes, per-tensor and per-channel specs', async () => {
    const k = await gpu();
    const r = rng(5);
    for (let t = 0; t < 24; t++) {
      const N = 1 + Math.floor(r() * 5);
      const K = 1 + Math.floor(r() * 70);
      const O = 1 + Math.floor(r() * 13);
      const xd = ACT[t % 3];
      const input: QLinearInput = {
        x: randInt(r, xd, N * K) as Int8Array,
        xShape: [N, K],
        xZeroPoint: randZp(r, xd),
        w: randInt(r, 'int8', O * K) as Int8Array,
        wShape: [O, K],
        bias: r() < 0.7 ? Int32Array.from({ length: O }, () => Math.floor((r() - 0.5) * 2 ** 20)) : undefined,
      };
      const out = randOut(r, t);
      const spec = out.dtype === 'int32' && out.zeroPoint === undefined ? null : randSpec(r, O, t % 2 === 0 ? 'horizon' : 'pytorch');
      const want = linearInt(input, spec, out);
      const got = await k.linearInt(input, spec, out);
      expect(got.shape).toEqual(want.shape);
      same(got.data, want.data);
      if (t % 8 === 0) same((await k.linearAccumulate(input)).acc, linearAccumulate(input).acc);
    }
  });
});

describe('add: GPU equals CPU', () => {
  it('qnnpack and horizon parameters, int8 / uint8 / int16 inputs, fused relu, saturation', async () => {
    const k = await gpu();
    const r = rng(9);
    for (let t = 0; t < 30; t++) {
      const n = 1 + Math.floor(r() * 300);
      const ad = ACT[t % 3];
      const bd = ACT[Math.floor(t / 3) % 3];
      const a = randInt(r, ad, n);
      const b = randInt(r, bd, n);
      const mode = t % 2 === 0 ? 'pytorch' : 'horizon';
      let params: AddParams;
      if (t % 5 === 4) {
        // extreme hand-made parameters: large multipliers of both signs, shifts 0 and 63
        params = { mode, aMultiplier: 2147483647 >> Math.floor(r() * 16), bMultiplier: -(1 + Math.floor(r() * 2 ** 20)), shift: [0, 63, 40, 17][t % 4] };
      } else {
        const as = 2 ** (-8 + r() * 6);
        const bs = 2 ** (-8 + r() * 6);
        const os = 2 ** (-8 + r() * 6);
        params = computeAddParams(mode, as, bs, os, { bits: t % 3 === 0 ? 32 : 16 });
      }
      const out = randOut(r, t);
      const azp = randZp(r, ad);
      const bzp = randZp(r, bd);
      const want = addInt(a, azp, b, bzp, params, out);
      const got = await k.addInt(a, azp, b, bzp, params, out);
      same(got, want);
    }
  });

  it('ties round away from zero (qnnpack) and half up (horizon)', async () => {
    const k = await gpu();
    const a = Int8Array.from([7, -7, 5, -5, 3, -3, 1, -1]);
    const b = new Int8Array(8);
    for (const mode of ['pytorch', 'horizon'] as const) {
      const params: AddParams = { mode, aMultiplier: 1, bMultiplier: 1, shift: 1 };
      same(await k.addInt(a, 0, b, 0, params, { dtype: 'int8' }), addInt(a, 0, b, 0, params, { dtype: 'int8' }));
    }
  });
});

describe('relu / pooling: GPU equals CPU', () => {
  it('relu and relu6 keep the dtype', async () => {
    const k = await gpu();
    const r = rng(13);
    for (const d of OUT) {
      const x = randInt(r, d, 257);
      const zp = d === 'int32' ? -5 : randZp(r, d);
      same(await k.reluInt(x, zp), reluInt(x, zp));
      same(await k.relu6Int(x, zp, zp + 40), relu6Int(x, zp, zp + 40));
      same(await k.relu6Int(x, zp, zp - 3), relu6Int(x, zp, zp - 3));
    }
  });

  it('max / average / global average pooling, both modes', async () => {
    const k = await gpu();
    const r = rng(17);
    for (let t = 0; t < 18; t++) {
      const d = ACT[t % 3];
      const shape = [1 + Math.floor(r() * 2), 1 + Math.floor(r() * 4), 3 + Math.floor(r() * 7), 3 + Math.floor(r() * 7)] as const;
      const x = randInt(r, d, shape[0] * shape[1] * shape[2] * shape[3]);
      const kh = 1 + Math.floor(r() * 3);
      const kw = 1 + Math.floor(r() * 3);
      const geom = {
        kernel: [kh, kw] as [number, number],
        stride: [1 + Math.floor(r() * 2), 1 + Math.floor(r() * 2)] as [number, number],
        padding: [Math.floor(r() * (Math.floor(kh / 2) + 1)), Math.floor(r() * (Math.floor(kw / 2) + 1))] as [number, number],
      };
      const mp = maxPool2dInt(x, shape, geom);
      const gmp = await k.maxPool2dInt(x, shape, geom);
      expect(gmp.shape).toEqual(mp.shape);
      same(gmp.data, mp.data);

      const zp = randZp(r, d);
      const mode = t % 2 === 0 ? 'horizon' : 'pytorch';
      const xs = 2 ** (-6 + r() * 4);
      const os = 2 ** (-6 + r() * 4);
      const out = randOut(r, t + 1);
      if (out.dtype === 'int32' && out.zeroPoint === undefined) out.zeroPoint = 0;
      const spec = avgPoolRequantSpec(mode, xs, os, kh * kw);
      same((await k.avgPool2dInt(x, shape, zp, geom, spec, out)).data, avgPool2dInt(x, shape, zp, geom, spec, out).data);
      const gspec = avgPoolRequantSpec(mode, xs, os, shape[2] * shape[3]);
      same((await k.globalAvgPoolInt(x, shape, zp, gspec, out)).data, globalAvgPoolInt(x, shape, zp, gspec, out).data);
      if (t % 6 === 0) same((await k.avgPool2dSums(x, shape, zp, geom)).sum, avgPool2dSums(x, shape, zp, geom).sum);
    }
  });
});
