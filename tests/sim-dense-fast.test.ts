/**
 * The simulator's SIMD GEMM for one-group convs that are not pointwise (3x3, strided, dilated, padded stems) and for
 * linear layers (src/sim/fast-conv.ts conv2dDenseFast / linearDenseFast) against the reference conv2dAccumulate /
 * linearAccumulate + mulShiftRound + requantizeHorizon, element for element: odd channel counts (K odd), output
 * channels not a multiple of 4, few pixels per image (several images per GEMM tile) and many (one image per tile,
 * several tiles), int8 / uint8 / int16 inputs, int8 / int16 / int32 outputs, a fused add input, wrap-around sums.
 */
import { describe, expect, it } from 'vitest';
import { conv2dDenseFast, conv2dRequantFast, linearDenseFast } from '../src/sim/fast-conv.ts';
import { conv2dAccumulate } from '../src/sim/int/conv2d.ts';
import { linearAccumulate } from '../src/sim/int/linear.ts';
import { DTYPE_RANGE, allocInt, mulShiftRound, requantizeHorizon, type IntArray } from '../src/sim/int/requant.ts';
import { mulberry32 } from './helpers/random.ts';

type Act = 'int8' | 'uint8' | 'int16';
type Out = 'int8' | 'int16' | 'int32';

function randAct(r: () => number, dtype: Act, n: number): Int8Array | Uint8Array | Int16Array {
  const [lo, hi] = DTYPE_RANGE[dtype];
  const a = allocInt(dtype, n) as Int8Array | Uint8Array | Int16Array;
  for (let i = 0; i < n; i++) a[i] = i % 13 === 0 ? (i % 26 === 0 ? lo : hi) : lo + Math.floor(r() * (hi - lo + 1));
  return a;
}

function spec(r: () => number, channels: number) {
  const n = r() < 0.3 ? 1 : channels;
  const multiplier = Int32Array.from({ length: n }, () => (r() < 0.1 ? 0x7fffffff : 0x40000000 + Math.floor(r() * 0x3fffffff)));
  const shift = Int32Array.from({ length: n }, () => (r() < 0.05 ? Math.floor(r() * 64) : 20 + Math.floor(r() * 20)));
  return { multiplier, shift };
}

function countDiff(got: ArrayLike<number>, want: ArrayLike<number>): number {
  let d = 0;
  for (let i = 0; i < want.length; i++) if (got[i] !== want[i]) d++;
  return d;
}

interface ConvCase { N: number; C: number; H: number; W: number; O: number; KH: number; KW: number; stride: [number, number]; pad: [number, number]; dil: [number, number]; act: Act; out: Out; add: boolean }

function checkConv(seed: number, o: ConvCase) {
  const r = mulberry32(seed);
  const { N, C, H, W, O, KH, KW } = o;
  const x = randAct(r, o.act, N * C * H * W);
  const w = Int8Array.from({ length: O * C * KH * KW }, () => Math.floor(r() * 256) - 128);
  const bias = r() < 0.2 ? null : Int32Array.from({ length: O }, () => Math.floor((r() - 0.5) * 2 ** 31));
  const geom = { stride: o.stride, padding: o.pad, dilation: o.dil, groups: 1 };
  const ref = conv2dAccumulate({ x, xShape: [N, C, H, W], xZeroPoint: 0, w, wShape: [O, C, KH, KW], bias }, geom);
  const P = ref.shape[2] * ref.shape[3];
  const acc = ref.acc.slice();
  let add: { a: Int8Array | Uint8Array | Int16Array; multiplier: Int32Array; shift: Int32Array } | undefined;
  if (o.add) {
    const a = randAct(r, r() < 0.5 ? 'int8' : 'int16', N * O * P);
    add = { a, ...spec(r, O) };
    for (let i = 0; i < acc.length; i++) {
      const k = add.multiplier.length === 1 ? 0 : Math.floor(i / P) % O;
      acc[i] = (acc[i] + mulShiftRound(a[i], add.multiplier[k], add.shift[k])) | 0;
    }
  }
  const label = JSON.stringify(o);
  if (o.out === 'int32') {
    const got = conv2dDenseFast(x, [N, C, H, W], w, [O, C, KH, KW], bias, geom, null);
    expect(got, label).not.toBeNull();
    expect(got!.shape).toEqual(ref.shape);
    expect(got!.data).toBeInstanceOf(Int32Array);
    expect(countDiff(got!.data, ref.acc), label).toBe(0);
    return;
  }
  const rq = spec(r, O);
  const [dlo, dhi] = DTYPE_RANGE[o.out];
  const lo = r() < 0.5 ? 0 : dlo, hi = r() < 0.3 ? Math.floor(dhi / 2) : dhi;
  const want: IntArray = requantizeHorizon(acc, rq.multiplier, rq.shift, { dtype: o.out, clampMin: lo, clampMax: hi }, { channels: O, inner: P });
  const got = conv2dDenseFast(x, [N, C, H, W], w, [O, C, KH, KW], bias, geom, { ...rq, dtype: o.out, lo, hi }, add);
  expect(got, label).not.toBeNull();
  expect(got!.shape).toEqual(ref.shape);
  expect(got!.data.constructor).toBe(want.constructor);
  expect(countDiff(got!.data, want), label).toBe(0);
}

describe('SIMD GEMM for one-group convs and linear layers', () => {
  it('KxK convs: stride, padding, dilation, odd channels, few and many pixels per image', () => {
    let seed = 1;
    const shapes: Array<Omit<ConvCase, 'act' | 'out' | 'add'>> = [
      { N: 3, C: 1, H: 28, W: 28, O: 24, KH: 3, KW: 3, stride: [1, 1], pad: [1, 1], dil: [1, 1] }, // cnn-small's first conv
      { N: 2, C: 5, H: 9, W: 11, O: 6, KH: 3, KW: 3, stride: [2, 2], pad: [1, 1], dil: [1, 1] },
      { N: 4, C: 3, H: 7, W: 7, O: 5, KH: 5, KW: 3, stride: [1, 2], pad: [2, 0], dil: [1, 1] },
      { N: 3, C: 4, H: 10, W: 10, O: 8, KH: 3, KW: 3, stride: [1, 1], pad: [2, 2], dil: [2, 2] },
      { N: 5, C: 7, H: 3, W: 2, O: 9, KH: 3, KW: 3, stride: [3, 3], pad: [1, 1], dil: [1, 1] }, // one output pixel
      { N: 2, C: 3, H: 6, W: 6, O: 4, KH: 2, KW: 2, stride: [2, 2], pad: [0, 0], dil: [1, 1] },
      { N: 2, C: 6, H: 5, W: 5, O: 3, KH: 1, KW: 1, stride: [2, 2], pad: [0, 0], dil: [1, 1] }, // strided 1x1 (downsample)
    ];
    for (const s of shapes) {
      for (const act of ['int8', 'uint8', 'int16'] as const) {
        for (const out of ['int8', 'int16', 'int32'] as const) checkConv(seed++, { ...s, act, out, add: out !== 'int32' && seed % 3 === 0 });
      }
    }
  });

  it('a conv whose images span several GEMM tiles, and a tile that holds many images', () => {
    checkConv(900, { N: 3, C: 64, H: 40, W: 40, O: 12, KH: 3, KW: 3, stride: [1, 1], pad: [1, 1], dil: [1, 1], act: 'int8', out: 'int8', add: true });
    checkConv(901, { N: 70, C: 9, H: 2, W: 2, O: 7, KH: 3, KW: 3, stride: [1, 1], pad: [1, 1], dil: [1, 1], act: 'int16', out: 'int16', add: false });
  });

  it('linear: the batch as the GEMM columns (60 x 1280: several tiles), int8 / int16 / int32 outputs', () => {
    let seed = 500;
    for (const [N, K, O] of [[1, 1, 1], [3, 7, 5], [40, 300, 70], [70, 33, 10], [60, 1280, 9]]) {
      for (const act of ['int8', 'uint8', 'int16'] as const) {
        for (const out of ['int8', 'int16', 'int32'] as const) {
          const r = mulberry32(seed++);
          const x = randAct(r, act, N * K);
          const w = Int8Array.from({ length: O * K }, () => Math.floor(r() * 256) - 128);
          const bias = Int32Array.from({ length: O }, () => Math.floor((r() - 0.5) * 2 ** 31));
          const ref = linearAccumulate({ x, xShape: [N, K], xZeroPoint: 0, w, wShape: [O, K], bias }).acc;
          const label = `${N}x${K} -> ${O}, ${act} -> ${out}`;
          if (out === 'int32') {
            const got = linearDenseFast(x, N, K, w, O, bias, null);
            expect(got).toBeInstanceOf(Int32Array);
            expect(countDiff(got!, ref), label).toBe(0);
            continue;
          }
          const rq = spec(r, O);
          const [lo, hi] = DTYPE_RANGE[out];
          const want = requantizeHorizon(ref, rq.multiplier, rq.shift, { dtype: out, clampMin: lo, clampMax: hi }, { channels: O, inner: 1 });
          const got = linearDenseFast(x, N, K, w, O, bias, { ...rq, dtype: out, lo, hi });
          expect(got!.constructor, label).toBe(want.constructor);
          expect(countDiff(got!, want), label).toBe(0);
        }
      }
    }
  });

  it('leaves grouped convs and int32 inputs to the general path (null)', () => {
    const geom = { stride: [1, 1] as [number, number], padding: [1, 1] as [number, number], dilation: [1, 1] as [number, number], groups: 2 };
    expect(conv2dDenseFast(new Int8Array(2 * 4 * 25), [2, 4, 5, 5], new Int8Array(8 * 2 * 9), [8, 2, 3, 3], null, geom, null)).toBeNull();
    expect(conv2dDenseFast(new Int32Array(2 * 4 * 25), [2, 4, 5, 5], new Int8Array(8 * 4 * 9), [8, 4, 3, 3], null, { ...geom, groups: 1 }, null)).toBeNull();
    expect(linearDenseFast(new Int32Array(6), 2, 3, new Int8Array(6), 2, null, null)).toBeNull();
  });
});

describe('SIMD depthwise on the tiny planes of late layers (taps that read only padding are skipped)', () => {
  it('5x5 / 3x3 kernels on 1x1, 2x2 and 3x1 planes, and wide rows (the SIMD movers\' 8- and 16-element steps), stride 1 and 2', () => {
    let seed = 700;
    for (const [H, W, K, s, pad] of [[1, 1, 5, 1, 2], [2, 2, 5, 1, 2], [2, 2, 5, 2, 2], [1, 1, 3, 2, 1], [3, 1, 3, 1, 1], [2, 3, 5, 2, 2], [9, 37, 3, 2, 1], [6, 34, 5, 2, 2], [5, 40, 3, 1, 1]]) {
      for (const act of ['int8', 'uint8', 'int16'] as const) {
        const r = mulberry32(seed++);
        const N = 9, C = 6;
        const x = randAct(r, act, N * C * H * W);
        const w = Int8Array.from({ length: C * K * K }, () => Math.floor(r() * 256) - 128);
        const bias = Int32Array.from({ length: C }, () => Math.floor((r() - 0.5) * 2 ** 20));
        const geom = { stride: [s, s] as [number, number], padding: [pad, pad] as [number, number], dilation: [1, 1] as [number, number], groups: C };
        const ref = conv2dAccumulate({ x, xShape: [N, C, H, W], xZeroPoint: 0, w, wShape: [C, 1, K, K], bias }, geom);
        const rq = spec(r, C);
        const want = requantizeHorizon(ref.acc, rq.multiplier, rq.shift, { dtype: 'int8', clampMin: -128, clampMax: 127 }, { channels: C, inner: ref.shape[2] * ref.shape[3] });
        const got = conv2dRequantFast(x, [N, C, H, W], w, [C, 1, K, K], bias, geom, { ...rq, dtype: 'int8', lo: -128, hi: 127 });
        expect(got!.shape).toEqual(ref.shape);
        expect(countDiff(got!.data, want), `${H}x${W} k${K} s${s} ${act}`).toBe(0);
      }
    }
  });
});
