/**
 * The one-pass CPU runs of the simulator's elementwise and pooling kinds (src/sim/cpu/eltwise.ts, pool-shape.ts:
 * exact-double requantization of mul / affine / global average pooling, whole-input lookup tables) against the
 * reference kernels of src/sim/int (mulInt, affineInt, lutApply, avgPool2dSums + requantizeHorizon), element for
 * element, including the cases that take the general path (int16 x int16 products, per-channel tables on int16).
 */
import { describe, expect, it } from 'vitest';
import { INT_LAYERS } from '../src/sim/layers.ts';
import type { IntLayer, IntModel, ValueInfo } from '../src/sim/model.ts';
import { affineInt, mulInt } from '../src/sim/int/mul.ts';
import { buildLut, lutApply } from '../src/sim/int/lut.ts';
import { avgPool2dSums } from '../src/sim/int/pool.ts';
import { DTYPE_RANGE, allocInt, requantizeHorizon, type IntArray, type QDType } from '../src/sim/int/requant.ts';
import type { IntTensor } from '../src/sim/tensor.ts';
import { mulberry32 } from './helpers/random.ts';

const model = {} as IntModel; // the CPU runs of these kinds read only the layer, the inputs and the output's domain
const info = (dtype: QDType, shape: number[]): ValueInfo => ({ dtype, scales: [1], shape });

function rand(r: () => number, dtype: QDType, n: number): IntArray {
  const [lo, hi] = DTYPE_RANGE[dtype];
  const a = allocInt(dtype, n);
  for (let i = 0; i < n; i++) a[i] = i % 11 === 0 ? (i % 22 === 0 ? lo : hi) : lo + Math.floor(r() * (hi - lo + 1));
  return a;
}

function run(l: IntLayer, ins: IntTensor[], out: ValueInfo): IntTensor {
  const def = INT_LAYERS[l.op] as { cpu: (l: IntLayer, ins: IntTensor[], c: unknown) => IntTensor };
  return def.cpu(l, ins, { model, info: out, N: ins[0].shape[0] });
}

const same = (got: ArrayLike<number>, want: ArrayLike<number>) => {
  let d = 0;
  for (let i = 0; i < want.length; i++) if (got[i] !== want[i]) d++;
  return d;
};

describe('one-pass CPU runs against the reference kernels', () => {
  it('mul: elementwise and per-channel gates, int8 / int16 operands, shifts 0 .. 62', () => {
    let seed = 1;
    for (const [da, db] of [['int8', 'int8'], ['int8', 'uint8'], ['int16', 'int8'], ['int16', 'int16']] as const) {
      for (const perChannel of [false, true]) {
        for (const out of ['int8', 'int16'] as const) {
          const r = mulberry32(seed++);
          const shape = [3, 5, 4, 3];
          const a = rand(r, da, 180), b = rand(r, db, perChannel ? 15 : 180);
          const m = 0x40000000 + Math.floor(r() * 0x3fffffff), s = seed % 7 === 0 ? 0 : 14 + Math.floor(r() * 48);
          const l: IntLayer = { id: 'm', op: 'mul', inputs: ['a', 'b'], requant: { multiplier: Int32Array.of(m), shift: Int32Array.of(s) }, clamp: { lo: seed % 2 ? 0 : DTYPE_RANGE[out][0], hi: DTYPE_RANGE[out][1] } };
          const got = run(l, [{ data: a, shape }, { data: b, shape: perChannel ? [3, 5] : shape }], info(out, shape.slice(1)));
          const want = mulInt(a, b, m, s, { dtype: out, clampMin: l.clamp.lo, clampMax: l.clamp.hi });
          expect(got.data.constructor).toBe(want.constructor);
          expect(same(got.data, want), `${da} x ${db} ${perChannel} ${out} s${s}`).toBe(0);
        }
      }
    }
  });

  it('affine: int8 / int16 inputs, offsets, clamps', () => {
    let seed = 50;
    for (const dx of ['int8', 'uint8', 'int16'] as const) {
      for (const out of ['int8', 'int16'] as const) {
        const r = mulberry32(seed++);
        const x = rand(r, dx, 300);
        const m = 0x40000000 + Math.floor(r() * 0x3fffffff), s = 20 + Math.floor(r() * 30), offset = Math.floor((r() - 0.5) * 200);
        const l: IntLayer = { id: 'f', op: 'affine', inputs: ['x'], requant: { multiplier: Int32Array.of(m), shift: Int32Array.of(s) }, offset, clamp: { lo: DTYPE_RANGE[out][0], hi: DTYPE_RANGE[out][1] } };
        const got = run(l, [{ data: x, shape: [3, 100] }], info(out, [100]));
        const want = affineInt(x, m, s, offset, { dtype: out, clampMin: l.clamp.lo, clampMax: l.clamp.hi });
        expect(same(got.data, want), `${dx} -> ${out}`).toBe(0);
      }
    }
  });

  it('lut: int8 / uint8 / int16 inputs, one table and one per channel, clamps narrower than the table', () => {
    let seed = 80;
    for (const inDtype of ['int8', 'uint8', 'int16'] as const) {
      for (const channels of [1, 3]) {
        const r = mulberry32(seed++);
        const slope = Array.from({ length: channels }, () => 0.01 + r() * 0.05);
        const f = (c: number, q: number) => Math.tanh(q * slope[c] / (inDtype === 'int16' ? 256 : 1)) * 100 + c;
        const t = buildLut({ fn: 'test', inDtype, channels, lo: -128, hi: 127, real: f, exact: (c, q) => Math.round(f(c, q)) });
        const shape = [2, 3, 7, 5];
        const x = rand(r, inDtype, 210);
        const l = { id: 't', op: 'lut', inputs: ['x'], ...t, clamp: { lo: -100, hi: 90 } } as IntLayer;
        for (let rep = 0; rep < 2; rep++) { // the second run reads the cached table
          const got = run(l, [{ data: x, shape }], info('int8', shape.slice(1)));
          const want = lutApply(x, shape, t, 'int8', -100, 90);
          expect(same(got.data, want), `${inDtype} ${channels} tables`).toBe(0);
        }
      }
    }
  });

  it('global average pooling: planes of 1 .. 64 values, int8 / int16 inputs', () => {
    let seed = 120;
    for (const [H, W] of [[1, 1], [2, 2], [4, 4], [7, 3], [8, 8]]) {
      for (const dx of ['int8', 'int16'] as const) {
        const r = mulberry32(seed++);
        const shape: [number, number, number, number] = [3, 6, H, W];
        const x = rand(r, dx, 18 * H * W);
        const m = 0x40000000 + Math.floor(r() * 0x3fffffff), s = 30 + Math.floor(r() * 10);
        const l: IntLayer = { id: 'p', op: 'avgpool2d', inputs: ['x'], kernel: null, stride: [1, 1], padding: [0, 0], requant: { multiplier: Int32Array.of(m), shift: Int32Array.of(s) }, clamp: { lo: -128, hi: 127 } };
        const got = run(l, [{ data: x, shape }], info('int8', [6]));
        const sums = avgPool2dSums(x, shape, 0, { kernel: [H, W], stride: [H, W], padding: [0, 0] }).sum;
        const want = requantizeHorizon(sums, m, s, { dtype: 'int8', clampMin: -128, clampMax: 127 });
        expect(got.shape).toEqual([3, 6]);
        expect(same(got.data, want), `${H}x${W} ${dx}`).toBe(0);
      }
    }
  });
});
