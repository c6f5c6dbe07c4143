/**
 * The fused SIMD conv kernels of the simulator (src/sim/fast-conv.ts conv2dRequantFast: pointwise GEMM and
 * register-tap depthwise, requantization and a fused Conv+Add's add input inside) against the reference
 * conv2dAccumulate + mulShiftRound + requantizeHorizon, element for element: odd sizes (pixel tails, odd channel
 * counts, output channels not a multiple of 4), stride 2 / 3, dilation, padding, int8 / uint8 / int16 inputs,
 * int8 / int16 outputs, per-tensor and per-channel multipliers, shifts from 0 to 63, clamps.
 */
import { describe, expect, it } from 'vitest';
import { conv2dRequantFast } from '../src/sim/fast-conv.ts';
import { conv2dAccumulate } from '../src/sim/int/conv2d.ts';
import { DTYPE_RANGE, allocInt, mulShiftRound, requantizeHorizon, type IntArray } from '../src/sim/int/requant.ts';
import { wasmGemm } from '../src/sim/wasm-gemm.ts';
import { mulberry32 } from './helpers/random.ts';

type Act = 'int8' | 'uint8' | 'int16';

function randAct(r: () => number, dtype: Act, n: number): Int8Array | Uint8Array | Int16Array {
  const [lo, hi] = DTYPE_RANGE[dtype];
  const a = allocInt(dtype, n) as Int8Array | Uint8Array | Int16Array;
  for (let i = 0; i < n; i++) a[i] = i % 17 === 0 ? (i % 34 === 0 ? lo : hi) : lo + Math.floor(r() * (hi - lo + 1));
  return a;
}

function spec(r: () => number, channels: number) {
  const n = r() < 0.3 ? 1 : channels;
  const multiplier = Int32Array.from({ length: n }, () => (r() < 0.1 ? 0x7fffffff : 0x40000000 + Math.floor(r() * 0x3fffffff)));
  const shift = Int32Array.from({ length: n }, () => (r() < 0.05 ? Math.floor(r() * 64) : 20 + Math.floor(r() * 20)));
  return { multiplier, shift };
}

function check(seed: number, o: { N: number; C: number; H: number; W: number; O: number; K: number; stride: number; pad: number; dil: number; dw: boolean; act: Act; out: 'int8' | 'int16'; add: boolean }) {
  const r = mulberry32(seed);
  const { N, C, H, W, K, stride, pad, dil } = o;
  const O = o.dw ? C : o.O;
  const I = o.dw ? 1 : C;
  const x = randAct(r, o.act, N * C * H * W);
  const w = Int8Array.from({ length: O * I * K * K }, () => Math.floor(r() * 256) - 128);
  const bias = r() < 0.2 ? null : Int32Array.from({ length: O }, () => Math.floor((r() - 0.5) * 2 ** 20));
  const geom = { stride: [stride, stride] as [number, number], padding: [pad, pad] as [number, number], dilation: [dil, dil] as [number, number], groups: o.dw ? C : 1 };
  const ref = conv2dAccumulate({ x, xShape: [N, C, H, W], xZeroPoint: 0, w, wShape: [O, I, K, K], bias }, geom);
  const [, , OH, OW] = ref.shape;
  const P = OH * OW;
  const rq = spec(r, O);
  const [dlo, dhi] = DTYPE_RANGE[o.out];
  const lo = r() < 0.5 ? 0 : dlo, hi = r() < 0.3 ? Math.floor(dhi / 2) : dhi;
  let add: { a: Int8Array | Uint8Array | Int16Array; multiplier: Int32Array; shift: Int32Array } | undefined;
  const acc = ref.acc.slice();
  if (o.add) {
    const a = randAct(r, r() < 0.5 ? 'int8' : 'int16', N * O * P);
    const am = spec(r, O);
    add = { a, ...am };
    for (let i = 0; i < acc.length; i++) {
      const c = Math.floor(i / P) % O;
      const k = am.multiplier.length === 1 ? 0 : c;
      acc[i] = (acc[i] + mulShiftRound(a[i], am.multiplier[k], am.shift[k])) | 0;
    }
  }
  const want: IntArray = requantizeHorizon(acc, rq.multiplier, rq.shift, { dtype: o.out, clampMin: lo, clampMax: hi }, { channels: O, inner: P });
  const got = conv2dRequantFast(x, [N, C, H, W], w, [O, I, K, K], bias, geom, { ...rq, dtype: o.out, lo, hi }, add);
  expect(got, JSON.stringify(o)).not.toBeNull();
  expect(got!.shape).toEqual(ref.shape);
  expect(got!.data.constructor).toBe(want.constructor);
  let diff = 0;
  for (let i = 0; i < want.length; i++) if (got!.data[i] !== want[i]) diff++;
  expect(diff, `${diff} of ${want.length} differ: ${JSON.stringify(o)}`).toBe(0);
}

describe('fused SIMD conv + requant kernels (conv2dRequantFast)', () => {
  it('WebAssembly SIMD is available (Node 20 and every WebGPU browser have it), so the kernels below run', () => {
    expect(wasmGemm()).not.toBeNull();
  });

  it('pointwise: odd channels and pixels, int8 / uint8 / int16 in, int8 / int16 out, with and without an add input', () => {
    let seed = 1;
    for (const act of ['int8', 'uint8', 'int16'] as const) {
      for (const [C, O, H, W] of [[1, 1, 1, 1], [3, 5, 3, 5], [16, 96, 7, 9], [17, 6, 4, 4], [64, 12, 2, 3]]) {
        for (const add of [false, true]) {
          check(seed++, { N: 3, C, H, W, O, K: 1, stride: 1, pad: 0, dil: 1, dw: false, act, out: seed % 2 ? 'int8' : 'int16', add });
        }
      }
    }
  });

  it('depthwise: 3x3 and 5x5, stride 1 / 2 / 3, padding, dilation, small and odd planes', () => {
    let seed = 100;
    for (const act of ['int8', 'uint8', 'int16'] as const) {
      for (const [C, H, W, K, stride, pad, dil] of [[4, 7, 7, 3, 1, 1, 1], [5, 14, 13, 3, 2, 1, 1], [3, 9, 11, 5, 1, 2, 1], [2, 10, 10, 3, 3, 1, 1], [3, 12, 12, 3, 1, 2, 2], [6, 4, 4, 3, 2, 1, 1], [1, 1, 1, 1, 1, 0, 1]]) {
        check(seed++, { N: 3, C, H, W, O: C, K, stride, pad, dil, dw: true, act, out: seed % 2 ? 'int8' : 'int16', add: false });
      }
    }
  });

  it('leaves other shapes to the general path (null)', () => {
    const x = new Int8Array(2 * 4 * 5 * 5);
    const w = new Int8Array(8 * 4 * 3 * 3);
    const rq = { multiplier: Int32Array.of(1 << 30), shift: Int32Array.of(31), dtype: 'int8' as const, lo: -128, hi: 127 };
    expect(conv2dRequantFast(x, [2, 4, 5, 5], w, [8, 4, 3, 3], null, { stride: [1, 1], padding: [1, 1], dilation: [1, 1], groups: 1 }, rq)).toBeNull();
    expect(conv2dRequantFast(new Int32Array(2 * 4 * 25), [2, 4, 5, 5], new Int8Array(32), [8, 4, 1, 1], null, { stride: [1, 1], padding: [0, 0], dilation: [1, 1], groups: 1 }, rq)).toBeNull();
  });
});
