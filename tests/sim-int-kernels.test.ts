/**
 * Integer kernels of the fixed-point simulator (src/sim/int/*), both requant modes. Expected integers are typed in
 * by hand or computed here from the documented formulas (BigInt accumulation, BigInt round-half-up for 'horizon',
 * the float32 formula nearbyint(f32(f32(acc)*M)) for 'pytorch'), never by calling the kernel under test.
 */
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { addInt, computeAddParams, computeAddParamsHorizon, computeAddParamsQnnpack, type AddParams } from '../src/sim/int/add.ts';
import { conv2dAccumulate, conv2dInt, type Conv2dGeometry, type QConv2dInput } from '../src/sim/int/conv2d.ts';
import { linearInt } from '../src/sim/int/linear.ts';
import { avgPool2dInt, avgPoolRequantSpec, globalAvgPoolInt, maxPool2dInt } from '../src/sim/int/pool.ts';
import { dequantizeInt32, dequantizeTensor, int32OutputScales, quantizePerChannel, quantizeTensor } from '../src/sim/int/quantize.ts';
import { relu6Int, reluInt } from '../src/sim/int/relu.ts';
import {
  DTYPE_RANGE,
  requantSpecFromScales,
  type IntArray,
  type QDType,
  type RequantSpec,
} from '../src/sim/int/requant.ts';

// ---------------------------------------------------------------------------------------------------------------
// References
// ---------------------------------------------------------------------------------------------------------------

function floorDiv(a: bigint, b: bigint): bigint {
  const q = a / b;
  return a % b !== 0n && a < 0n ? q - 1n : q;
}
function halfUpShift(p: bigint, s: number): bigint {
  return s === 0 ? p : floorDiv(p + (1n << BigInt(s - 1)), 1n << BigInt(s));
}
function halfEven(v: number): number {
  const f = Math.floor(v);
  const d = v - f;
  return d > 0.5 || (d === 0.5 && f % 2 !== 0) ? f + 1 : f;
}
function clamp(v: number, lo: number, hi: number): number {
  return Math.min(hi, Math.max(lo, v));
}
/** The documented requant of one value (horizon: BigInt round half up; pytorch: float32 formula, half even). */
function refRequant(acc: bigint, spec: RequantSpec, c: number, zp: number, lo: number, hi: number): number {
  const ch = spec.multiplier.length === 1 ? 0 : c;
  const v =
    spec.mode === 'horizon'
      ? Number(halfUpShift(acc * BigInt(spec.multiplier[ch]), spec.shift[ch]))
      : halfEven(Math.fround(Math.fround(Number(acc)) * spec.multiplier[ch]));
  return clamp(v + zp, lo, hi);
}

function pairOf(p: Conv2dGeometry['stride'], d: number): [number, number] {
  return p === undefined ? [d, d] : typeof p === 'number' ? [p, p] : [p[0], p[1]];
}

/** Direct conv over a zero-point-padded input, BigInt accumulation. */
function refConvAcc(inp: QConv2dInput, g: Conv2dGeometry): { acc: bigint[]; shape: number[] } {
  const [N, C, H, W] = inp.xShape;
  const [O, I, KH, KW] = inp.wShape;
  const groups = g.groups ?? 1;
  const [sh, sw] = pairOf(g.stride, 1);
  const [ph, pw] = pairOf(g.padding, 0);
  const [dh, dw] = pairOf(g.dilation, 1);
  const OH = Math.floor((H + 2 * ph - dh * (KH - 1) - 1) / sh) + 1;
  const OW = Math.floor((W + 2 * pw - dw * (KW - 1) - 1) / sw) + 1;
  const padded = (n: number, c: number, y: number, x: number): number =>
    y < 0 || y >= H || x < 0 || x >= W ? inp.xZeroPoint : inp.x[((n * C + c) * H + y) * W + x];
  const acc: bigint[] = [];
  for (let n = 0; n < N; n++)
    for (let o = 0; o < O; o++)
      for (let oy = 0; oy < OH; oy++)
        for (let ox = 0; ox < OW; ox++) {
          let s = BigInt(inp.bias ? inp.bias[o] : 0);
          const g0 = Math.floor(o / (O / groups)) * I;
          for (let i = 0; i < I; i++)
            for (let ky = 0; ky < KH; ky++)
              for (let kx = 0; kx < KW; kx++) {
                const xv = padded(n, g0 + i, oy * sh - ph + ky * dh, ox * sw - pw + kx * dw) - inp.xZeroPoint;
                s += BigInt(xv) * BigInt(inp.w[((o * I + i) * KH + ky) * KW + kx]);
              }
          acc.push(s);
        }
  return { acc, shape: [N, O, OH, OW] };
}

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
function randInts<T extends IntArray>(ctor: new (n: number) => T, n: number, lo: number, hi: number, r: () => number): T {
  const a = new ctor(n);
  for (let i = 0; i < n; i++) a[i] = lo + Math.floor(r() * (hi - lo + 1));
  return a;
}

// ---------------------------------------------------------------------------------------------------------------

describe('conv2d', () => {
  // x - zp = [[0,1,2],[3,4,5],[6,7,8]], w = [[1,-1],[2,0]], bias 3
  const tiny: QConv2dInput = {
    x: Uint8Array.of(10, 11, 12, 13, 14, 15, 16, 17, 18),
    xShape: [1, 1, 3, 3],
    xZeroPoint: 10,
    w: Int8Array.of(1, -1, 2, 0),
    wShape: [1, 1, 2, 2],
    bias: Int32Array.of(3),
  };

  it('hand-computed 2x2 conv: accumulator and both requant modes on ties', () => {
    const { acc, shape } = conv2dAccumulate(tiny, {});
    expect(shape).toEqual([1, 1, 2, 2]);
    expect(Array.from(acc)).toEqual([8, 10, 14, 16]); // 5+3, 7+3, 11+3, 13+3
    // real scale 0.25: 2, 2.5, 3.5, 4
    const h = conv2dInt(tiny, {}, requantSpecFromScales('horizon', 0.5, [0.5], 1), { dtype: 'int8' });
    expect(h.data).toBeInstanceOf(Int8Array);
    expect(Array.from(h.data)).toEqual([2, 3, 4, 4]); // half up
    const p = conv2dInt(tiny, {}, requantSpecFromScales('pytorch', 0.5, [0.5], 1), { dtype: 'int8' });
    expect(Array.from(p.data)).toEqual([2, 2, 4, 4]); // half even
  });

  it('padding contributes the zero point (real 0), fused relu / relu6 clamps', () => {
    const { acc, shape } = conv2dAccumulate(tiny, { padding: 1 });
    expect(shape).toEqual([1, 1, 4, 4]);
    // corner (0,0): only x(0,0)*w(1,1) = 0*0 -> bias 3; (0,1): x(0,0)*w(1,0)+x(0,1)*w(1,1) = 0 -> 3
    // (3,3): x(2,2)*w(0,0) = 8 -> 11
    expect(acc[0]).toBe(3);
    expect(acc[1]).toBe(3);
    expect(acc[15]).toBe(11);
    const neg: QConv2dInput = { ...tiny, w: Int8Array.of(-1, -1, -1, -1), bias: Int32Array.of(0) };
    const spec = requantSpecFromScales('horizon', 1, [1], 1);
    const relu = conv2dInt(neg, {}, spec, { dtype: 'uint8', zeroPoint: 100, clampMin: 100 });
    expect(Array.from(relu.data)).toEqual([100, 100, 100, 100]);
    const plain = conv2dInt(neg, {}, spec, { dtype: 'uint8', zeroPoint: 100 });
    expect(Array.from(plain.data)).toEqual([92, 88, 80, 76]); // 100 - (0+1+3+4), -(1+2+4+5), -(3+4+6+7), -(4+5+7+8)
    const pos: QConv2dInput = { ...tiny, w: Int8Array.of(1, 1, 1, 1), bias: Int32Array.of(0) };
    const r6 = conv2dInt(pos, {}, spec, { dtype: 'int8', clampMin: 0, clampMax: 15 });
    expect(Array.from(r6.data)).toEqual([8, 12, 15, 15]);
  });

  const geoms: Array<[string, number[], number[], Conv2dGeometry]> = [
    ['dense 3x3 pad 1', [2, 4, 6, 6], [5, 4, 3, 3], { padding: 1 }],
    ['stride 2, pad (1,0)', [1, 3, 7, 6], [4, 3, 3, 3], { stride: 2, padding: [1, 0] }],
    ['groups 2', [1, 4, 5, 5], [6, 2, 3, 3], { padding: 1, groups: 2 }],
    ['depthwise 3x3 stride 2', [1, 6, 7, 7], [6, 1, 3, 3], { padding: 1, stride: 2, groups: 6 }],
    ['dilation 2, 1x3 kernel', [1, 3, 6, 8], [2, 3, 1, 3], { padding: [0, 2], dilation: 2 }],
    ['pointwise', [1, 5, 3, 3], [7, 5, 1, 1], {}],
  ];
  const variants: Array<{ name: string; xType: 'uint8' | 'int8' | 'int16'; zp: number; out: QDType; outZp: number }> = [
    { name: 'uint8 zp 128 -> uint8', xType: 'uint8', zp: 128, out: 'uint8', outZp: 128 },
    { name: 'int8 zp 0 -> int8', xType: 'int8', zp: 0, out: 'int8', outZp: 0 },
    { name: 'int8 zp -5 -> int16', xType: 'int8', zp: -5, out: 'int16', outZp: 3 },
    { name: 'int16 zp 0 -> int16', xType: 'int16', zp: 0, out: 'int16', outZp: 0 },
  ];

  for (const [gname, xs, ws, geom] of geoms) {
    it(`${gname}: both modes, all dtypes, vs BigInt reference`, () => {
      const r = rng(xs.reduce((a, b) => a * 31 + b, 7));
      for (const v of variants) {
        const [lo, hi] = DTYPE_RANGE[v.xType];
        const n = xs.reduce((a, b) => a * b, 1);
        const x =
          v.xType === 'uint8' ? randInts(Uint8Array, n, lo, hi, r) : v.xType === 'int8' ? randInts(Int8Array, n, lo, hi, r) : randInts(Int16Array, n, -3000, 3000, r);
        const w = randInts(Int8Array, ws.reduce((a, b) => a * b, 1), -128, 127, r);
        const bias = randInts(Int32Array, ws[0], -5000, 5000, r);
        const inp: QConv2dInput = { x, xShape: xs as never, xZeroPoint: v.zp, w, wShape: ws as never, bias };
        const ref = refConvAcc(inp, geom);
        const { acc } = conv2dAccumulate(inp, geom);
        expect(Array.from(acc, (a) => BigInt(a))).toEqual(ref.acc);
        const wScales = Array.from({ length: ws[0] }, () => 0.001 + r() * 0.01);
        const xScale = v.xType === 'int16' ? 0.0004 : 0.02;
        const outScale = v.out === 'int16' ? 0.002 : 0.05 + r() * 0.2;
        const [olo, ohi] = DTYPE_RANGE[v.out];
        const inner = ref.shape[2] * ref.shape[3];
        for (const mode of ['horizon', 'pytorch'] as const) {
          const spec = requantSpecFromScales(mode, xScale, wScales, outScale);
          const got = conv2dInt(inp, geom, spec, { dtype: v.out, zeroPoint: v.outZp });
          expect(got.shape).toEqual(ref.shape);
          const want = ref.acc.map((a, i) => refRequant(a, spec, Math.floor(i / inner) % ws[0], v.outZp, olo, ohi));
          expect(Array.from(got.data)).toEqual(want);
        }
        // int32 high-precision output: the accumulator itself, with scale x_scale * w_scale[o]
        const hp = conv2dInt(inp, geom, null, { dtype: 'int32' });
        expect(hp.data).toBeInstanceOf(Int32Array);
        expect(Array.from(hp.data, (a) => BigInt(a))).toEqual(ref.acc);
      }
    });
  }

  it('rejects float inputs and bad shapes', () => {
    expect(() => conv2dAccumulate({ ...tiny, x: new Float32Array(9) as unknown as Uint8Array }, {})).toThrow(TypeError);
    expect(() => conv2dAccumulate({ ...tiny, w: new Float64Array(4) as unknown as Int8Array }, {})).toThrow(TypeError);
    expect(() => conv2dAccumulate({ ...tiny, bias: [1] as unknown as Int32Array }, {})).toThrow(TypeError);
    expect(() => conv2dAccumulate({ ...tiny, xZeroPoint: 0.5 }, {})).toThrow(TypeError);
    expect(() => conv2dAccumulate(tiny, { groups: 2 })).toThrow(RangeError);
  });
});

describe('linear', () => {
  // x = [-1,-2,-4] (int8, zp 0), w = [[1,1,1],[-1,0,2]], bias [0,1]: acc = [-7, -6]
  const inp = { x: Int8Array.of(-1, -2, -4), xShape: [1, 3] as const, xZeroPoint: 0, w: Int8Array.of(1, 1, 1, -1, 0, 2), wShape: [2, 3] as const, bias: Int32Array.of(0, 1) };
  it('hand-computed ties, per-channel scales 0.5 and 0.25', () => {
    // -3.5 and -1.5: horizon (half up) -3, -1; pytorch (half even) -4, -2
    const h = linearInt(inp, requantSpecFromScales('horizon', 1, [0.5, 0.25], 1), { dtype: 'int8' });
    expect(Array.from(h.data)).toEqual([-3, -1]);
    const p = linearInt(inp, requantSpecFromScales('pytorch', 1, [0.5, 0.25], 1), { dtype: 'int8' });
    expect(Array.from(p.data)).toEqual([-4, -2]);
    const hp = linearInt(inp, null, { dtype: 'int32' });
    expect(Array.from(hp.data)).toEqual([-7, -6]);
    expect(Array.from(dequantizeInt32(hp.data as Int32Array, int32OutputScales(0.5, [0.5, 0.25]), 1))).toEqual([-1.75, -0.75]);
  });

  it('random K=300, uint8 zp 128, both modes vs BigInt reference; int16 output', () => {
    const r = rng(3);
    const N = 3, K = 300, O = 5;
    const x = randInts(Uint8Array, N * K, 0, 255, r);
    const w = randInts(Int8Array, O * K, -128, 127, r);
    const bias = randInts(Int32Array, O, -20000, 20000, r);
    const wScales = Array.from({ length: O }, () => 0.001 + r() * 0.004);
    for (const mode of ['horizon', 'pytorch'] as const) {
      for (const [dtype, outScale, zp] of [['uint8', 0.2, 128], ['int16', 0.001, 0]] as const) {
        const spec = requantSpecFromScales(mode, 0.02, wScales, outScale);
        const got = linearInt({ x, xShape: [N, K], xZeroPoint: 128, w, wShape: [O, K], bias }, spec, { dtype, zeroPoint: zp });
        const [lo, hi] = DTYPE_RANGE[dtype];
        for (let n = 0; n < N; n++)
          for (let o = 0; o < O; o++) {
            let s = BigInt(bias[o]);
            for (let k = 0; k < K; k++) s += BigInt(x[n * K + k] - 128) * BigInt(w[o * K + k]);
            expect(got.data[n * O + o]).toBe(refRequant(s, spec, o, zp, lo, hi));
          }
      }
    }
  });

  it('rejects float inputs', () => {
    expect(() => linearInt({ ...inp, x: Float32Array.of(1, 2, 3) as unknown as Int8Array }, null, { dtype: 'int32' })).toThrow(TypeError);
  });
});

describe('add', () => {
  it('QNNPACK parameters: power-of-two scales give the derived values of quantized_add__04', () => {
    expect(computeAddParamsQnnpack(0.0625, 0.125, 0.25)).toEqual({ mode: 'pytorch', aMultiplier: 1048576, bMultiplier: 2097152, shift: 22 });
    expect(computeAddParamsHorizon(0.0625, 0.125, 0.25, { bits: 16 })).toEqual({ mode: 'horizon', aMultiplier: 8192, bMultiplier: 16384, shift: 15 });
    expect(computeAddParamsHorizon(0.0625, 0.125, 0.25, { march: 'bernoulli' })).toEqual({ mode: 'horizon', aMultiplier: 1, bMultiplier: 2, shift: 2 });
  });

  it('hand-computed ties: pytorch away from zero, horizon half up', () => {
    // (a - 128)/16 + (b - 128)/8 in units of 1/4: 0.5, -0.5, 0.5, -1, 3.5, -38.5
    const a = Uint8Array.of(130, 126, 128, 140, 142, 128);
    const b = Uint8Array.of(128, 128, 129, 120, 128, 51);
    const out = { dtype: 'int8' as const };
    const py = addInt(a, 128, b, 128, computeAddParamsQnnpack(0.0625, 0.125, 0.25), out);
    expect(Array.from(py)).toEqual([1, -1, 1, -1, 4, -39]);
    for (const p of [computeAddParamsHorizon(0.0625, 0.125, 0.25), computeAddParamsHorizon(0.0625, 0.125, 0.25, { march: 'bernoulli' })]) {
      expect(Array.from(addInt(a, 128, b, 128, p, out))).toEqual([1, 0, 1, -1, 4, -38]);
    }
    // fused relu + uint8 saturation
    const relu = addInt(a, 128, b, 128, computeAddParamsQnnpack(0.0625, 0.125, 0.25), { dtype: 'uint8', zeroPoint: 128, clampMin: 128 });
    expect(Array.from(relu)).toEqual([129, 128, 129, 128, 132, 128]);
  });

  it('random scales and zero points, both modes vs BigInt reference (500 elements x 12 configs)', () => {
    const r = rng(11);
    for (let t = 0; t < 12; t++) {
      const aS = 0.01 + r() * 0.1, bS = 0.01 + r() * 0.1, oS = 0.02 + r() * 0.2;
      const aZ = Math.floor(r() * 256), bZ = Math.floor(r() * 256), oZ = Math.floor(r() * 256);
      const a = randInts(Uint8Array, 500, 0, 255, r);
      const b = randInts(Uint8Array, 500, 0, 255, r);
      for (const mode of ['horizon', 'pytorch'] as const) {
        const p: AddParams = computeAddParams(mode, aS, bS, oS);
        const got = addInt(a, aZ, b, bZ, p, { dtype: 'uint8', zeroPoint: oZ });
        for (let i = 0; i < a.length; i++) {
          const acc = BigInt(p.aMultiplier) * BigInt(a[i] - aZ) + BigInt(p.bMultiplier) * BigInt(b[i] - bZ);
          let v: bigint;
          if (mode === 'horizon') v = halfUpShift(acc, p.shift);
          else {
            // nearest, ties away from zero, on the exact rational acc / 2^shift
            const d = 1n << BigInt(p.shift);
            const mag = acc < 0n ? -acc : acc;
            const q = (2n * mag + d) / (2n * d); // floor(|acc|/d + 1/2)
            v = acc < 0n ? -q : q;
          }
          expect(got[i]).toBe(clamp(Number(v) + oZ, 0, 255));
        }
        // the multipliers approximate the real ratios
        expect(Math.abs(p.aMultiplier / 2 ** p.shift - aS / oS)).toBeLessThan((aS / oS) * 2 ** -10 + 2 ** -p.shift);
      }
    }
  });

  it('rejects float inputs', () => {
    const p = computeAddParamsQnnpack(0.1, 0.1, 0.2);
    expect(() => addInt(Float32Array.of(1) as unknown as Uint8Array, 0, Uint8Array.of(1), 0, p, { dtype: 'uint8' })).toThrow(TypeError);
  });
});

describe('relu', () => {
  it('max(x, zp) keeps dtype, scale and zero point; relu6 clamps at the quantized 6', () => {
    const x = Uint8Array.of(0, 36, 37, 38, 255);
    const r = reluInt(x, 37);
    expect(r).toBeInstanceOf(Uint8Array);
    expect(Array.from(r)).toEqual([37, 37, 37, 38, 255]);
    expect(Array.from(x)).toEqual([0, 36, 37, 38, 255]); // input untouched
    expect(Array.from(reluInt(Int8Array.of(-128, -1, 0, 5), 0))).toEqual([0, 0, 0, 5]);
    // scale 0.05, zp 3: q6 = 3 + 120 = 123
    expect(Array.from(relu6Int(Int8Array.of(-128, 2, 3, 60, 123, 124, 127), 3, 123))).toEqual([3, 3, 3, 60, 123, 123, 123]);
    expect(() => reluInt(Float32Array.of(1) as unknown as Int8Array, 0)).toThrow(TypeError);
  });
});

describe('pooling', () => {
  const x = Int8Array.from({ length: 16 }, (_, i) => i); // 4x4, 0..15
  it('avg pool 2x2 stride 2: integer sums then requant (horizon half up / pytorch half even)', () => {
    // sums 10, 18, 42, 50 -> /4 = 2.5, 4.5, 10.5, 12.5
    const h = avgPool2dInt(x, [1, 1, 4, 4], 0, { kernel: 2 }, avgPoolRequantSpec('horizon', 0.1, 0.1, 4), { dtype: 'int8' });
    expect(h.shape).toEqual([1, 1, 2, 2]);
    expect(Array.from(h.data)).toEqual([3, 5, 11, 13]);
    const p = avgPool2dInt(x, [1, 1, 4, 4], 0, { kernel: 2 }, avgPoolRequantSpec('pytorch', 0.1, 0.1, 4), { dtype: 'int8' });
    expect(Array.from(p.data)).toEqual([2, 4, 10, 12]);
  });

  it('avg pool 3x3 stride 1 pad 1 (count_include_pad, padding = zero point) with zp', () => {
    const u = Uint8Array.from({ length: 9 }, (_, i) => 100 + i); // x - zp = 0..8
    const spec = avgPoolRequantSpec('horizon', 1, 1, 9);
    const got = avgPool2dInt(u, [1, 1, 3, 3], 100, { kernel: 3, stride: 1, padding: 1 }, spec, { dtype: 'uint8', zeroPoint: 100 });
    // window sums: corner (0,0): 0+1+3+4 = 8 -> 8/9 = 0.89 -> 1; centre 36/9 = 4; (0,1): 0+1+2+3+4+5 = 15 -> 1.67 -> 2
    const sums = [8, 15, 12, 21, 36, 27, 20, 33, 24];
    const want = sums.map((s) => 100 + Number(halfUpShift(BigInt(s) * BigInt((spec as { multiplier: Int32Array }).multiplier[0]), (spec as { shift: Int32Array }).shift[0])));
    expect(Array.from(got.data)).toEqual(want);
    expect(want).toEqual([101, 102, 101, 102, 104, 103, 102, 104, 103]);
  });

  it('global average pool, per channel', () => {
    const t = Int8Array.of(1, 2, 3, 4, -1, -2, -3, -4); // [1,2,2,2]: means 2.5, -2.5
    expect(Array.from(globalAvgPoolInt(t, [1, 2, 2, 2], 0, avgPoolRequantSpec('horizon', 1, 1, 4), { dtype: 'int8' }).data)).toEqual([3, -2]);
    expect(Array.from(globalAvgPoolInt(t, [1, 2, 2, 2], 0, avgPoolRequantSpec('pytorch', 1, 1, 4), { dtype: 'int8' }).data)).toEqual([2, -2]);
  });

  it('max pool ignores padding (all-negative input)', () => {
    const n = Int8Array.from({ length: 9 }, (_, i) => -9 + i); // [[-9,-8,-7],[-6,-5,-4],[-3,-2,-1]]
    const got = maxPool2dInt(n, [1, 1, 3, 3], { kernel: 3, stride: 1, padding: 1 });
    expect(got.data).toBeInstanceOf(Int8Array);
    expect(Array.from(got.data)).toEqual([-5, -4, -4, -2, -1, -1, -2, -1, -1]);
    expect(Array.from(maxPool2dInt(x, [1, 1, 4, 4], { kernel: 2 }).data)).toEqual([5, 7, 13, 15]);
  });
});

describe('quantize / dequantize at the boundary', () => {
  it('QuantStub rounding: half even on x * f32(1/scale), zp after rounding, clamp', () => {
    const xs = [0.25, 0.75, -0.25, -0.75, 100, -100, 1.25];
    expect(Array.from(quantizeTensor(xs, 0.5, 3, 'int8'))).toEqual([3, 5, 3, 1, 127, -128, 5]); // 2.5 -> 2
    expect(Array.from(quantizeTensor(xs, 0.5, 3, 'int8', { rounding: 'half_up' }))).toEqual([4, 5, 3, 2, 127, -128, 6]);
    expect(Array.from(quantizeTensor(xs, 0.5, 3, 'int8', { rounding: 'half_away' }))).toEqual([4, 5, 2, 1, 127, -128, 6]);
    expect(quantizeTensor(xs, 0.5, 3, 'int16')).toBeInstanceOf(Int16Array);
    // per channel (OIHW axis 0, inner 2)
    expect(Array.from(quantizePerChannel([1, -1, 1, -1], [0.5, 0.25], [0, 0], 2, 'int8'))).toEqual([2, -2, 4, -4]);
  });

  it('DeQuantStub: f32((q - zp) * scale)', () => {
    const d = dequantizeTensor(Int8Array.of(3, 5, -128), 0.5, 3);
    expect(d).toBeInstanceOf(Float32Array);
    expect(Array.from(d)).toEqual([0, 1, -65.5]);
  });

  const projectCases = fileURLToPath(new URL('./conformance/cases', import.meta.url));
  const dir = existsSync(projectCases) ? projectCases : '/work/shared/conformance/cases';
  it('reproduces q and out of the fake_quant_per_tensor conformance cases', () => {
    const files = existsSync(dir) ? readdirSync(dir).filter((f) => f.startsWith('fake_quant_per_tensor__')) : [];
    expect(files.length).toBeGreaterThan(0);
    for (const f of files) {
      const c = JSON.parse(readFileSync(join(dir, f), 'utf8'));
      const p = c.params;
      const q = quantizeTensor(c.inputs.x.data, p.scale, p.zero_point, 'int32', { qmin: p.quant_min, qmax: p.quant_max });
      expect(Array.from(q), f).toEqual(c.derived.q.data);
      expect(Array.from(dequantizeTensor(q, p.scale, p.zero_point)), f).toEqual(c.expected.out.data.map((v: number) => Math.fround(v)));
    }
  });
});
