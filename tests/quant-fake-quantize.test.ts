import { describe, expect, it } from 'vitest';
import {
  fakeQuantizeBackward,
  fakeQuantizePerChannel,
  fakeQuantizePerTensor,
  quantizeValue,
} from '../src/quant/fake-quantize-ref.ts';
import { calculateQParams, EPS_F32, resolveQConfig } from '../src/quant/qparams.ts';

const f32 = Math.fround;

describe('fake quantization reference', () => {
  it('int8 symmetric, power-of-two scale: values, clamping and the STE mask', () => {
    const s = 0.125;
    const x = [0, 0.0625, 0.1875, -0.0625, 15.9375, 16, -16, -16.0625, -16.125, 100];
    // x/s = 0, 0.5, 1.5, -0.5, 127.5, 128, -128, -128.5, -129, 800
    const r = fakeQuantizePerTensor(x, s, 0, -128, 127);
    expect(Array.from(r.q)).toEqual([0, 0, 2, 0, 127, 127, -128, -128, -128, 127]);
    expect(Array.from(r.mask)).toEqual([1, 1, 1, 1, 0, 0, 1, 1, 0, 0]); // 127.5 -> 128 out; -128.5 -> -128 in
    expect(Array.from(r.out)).toEqual([0, 0, 0.25, 0, 15.875, 15.875, -16, -16, -16, 15.875]);
    const g = fakeQuantizeBackward(Float32Array.from(x, () => 2), r.mask);
    expect(Array.from(g)).toEqual([2, 2, 2, 2, 0, 0, 2, 2, 0, 0]);
  });

  it('affine: zero point is added after rounding; mask uses the unclamped value', () => {
    const r = fakeQuantizePerTensor([0.125, -9.5, -9.75, 0.375], 0.25, 37, 0, 255);
    // x/s = 0.5 -> 0 (+37); -38 -> -1 clamped to 0 (mask 0); -39 (mask 0); 1.5 -> 2
    expect(Array.from(r.q)).toEqual([37, 0, 0, 39]);
    expect(Array.from(r.mask)).toEqual([1, 0, 0, 1]);
    expect(Array.from(r.out)).toEqual([0, -9.25, -9.25, 0.5]);
  });

  it('multiplies by the float32 reciprocal (not x / scale)', () => {
    const s = f32(0.1);
    const inv = f32(1 / s);
    // find a value where x * f32(1/s) and x / s round differently
    let found = 0;
    for (let k = 0; k < 2000 && !found; k++) {
      const x = f32((k + 0.5) * s);
      if (nearbyintOf(f32(x * inv)) !== nearbyintOf(x / s)) found = x;
    }
    expect(found).not.toBe(0);
    const r = fakeQuantizePerTensor([found], s, 0, -32768, 32767);
    expect(r.q[0]).toBe(nearbyintOf(f32(found * inv)));
  });

  it('bpu_round vs half_even on ties', () => {
    const x = [0.5, 1.5, 2.5, -0.5, -1.5, -2.5];
    expect(Array.from(fakeQuantizePerTensor(x, 1, 0, -128, 127, 'half_even').q)).toEqual([0, 2, 2, 0, -2, -2]);
    expect(Array.from(fakeQuantizePerTensor(x, 1, 0, -128, 127, 'bpu_round').q)).toEqual([1, 2, 3, 0, -1, -2]);
    // 127.5 is clamped with half-even (-> 128) and with bpu_round; -128.5 is in range only with half-even
    expect(fakeQuantizePerTensor([-128.5], 1, 0, -128, 127, 'half_even').mask[0]).toBe(1);
    expect(fakeQuantizePerTensor([-128.5], 1, 0, -128, 127, 'bpu_round').mask[0]).toBe(1); // floor(-128) = -128
    expect(fakeQuantizePerTensor([-129.5], 1, 0, -128, 127, 'half_even').mask[0]).toBe(0);
  });

  it('float32 overflow of x * inv gives qmin with mask 0 (x86 int64 conversion, like torch)', () => {
    expect(quantizeValue(3e38, 1e10, 0, 'half_even')).toBe(-9223372036854775808);
    const r = fakeQuantizePerTensor([3e38], 1e-10, 0, -128, 127);
    expect(r.q[0]).toBe(-128);
    expect(r.mask[0]).toBe(0);
  });

  it('per channel along any axis equals per tensor on each slice', () => {
    const shape = [2, 3, 2];
    const x = Float32Array.from({ length: 12 }, (_, i) => (i - 5.5) * 0.37);
    const scales = [0.05, 0.1, 0.2];
    const zps = [0, 3, -2];
    const r = fakeQuantizePerChannel(x, shape, scales, zps, 1, -8, 7);
    const r2 = fakeQuantizePerChannel(x, shape, scales, zps, -2, -8, 7);
    expect(Array.from(r2.out)).toEqual(Array.from(r.out));
    for (let i = 0; i < 12; i++) {
      const c = Math.floor(i / 2) % 3;
      const p = fakeQuantizePerTensor([x[i]], scales[c], zps[c], -8, 7);
      expect(r.out[i]).toBe(p.out[0]);
      expect(r.mask[i]).toBe(p.mask[0]);
    }
  });

  it('all-zero channel with eps scale stays 0', () => {
    const { scale } = calculateQParams([0, -1], [0, 1], resolveQConfig({ qscheme: 'per_channel_symmetric' }));
    expect(scale[0]).toBe(f32(EPS_F32));
    const r = fakeQuantizePerChannel([0, 0, -1, 1], [2, 2], scale, [0, 0], 0, -128, 127);
    expect(r.out[0]).toBe(0);
    expect(r.out[1]).toBe(0);
    // f32(1/f32(1/127.5)) is just below 127.5, so +-1 -> +-127.49999 -> +-127, both in range
    expect(Array.from(r.q)).toEqual([0, 0, -127, 127]);
    expect(r.out[3]).toBe(f32(127 * scale[1]));
    expect(Array.from(r.mask)).toEqual([1, 1, 1, 1]);
  });
});

function nearbyintOf(v: number): number {
  const r = Math.round(v);
  return r - v === 0.5 && r % 2 !== 0 ? r - 1 : r;
}
