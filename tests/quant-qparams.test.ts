import { describe, expect, it } from 'vitest';
import { calculateQParams, dtypeRange, EPS_F32, resolveQConfig } from '../src/quant/qparams.ts';

const f32 = Math.fround;

describe('calculateQParams (torch 1.13 float32 formula)', () => {
  it('symmetric int8 divides max(-min, max) by 127.5, zero point 0', () => {
    const { scale, zeroPoint } = calculateQParams(-1, 2.55, {});
    expect(scale[0]).toBe(f32(f32(2.55) / 127.5));
    expect(zeroPoint[0]).toBe(0);
    expect(calculateQParams(-3, 1, {}).scale[0]).toBe(f32(3 / 127.5));
  });
  it('floors the scale at float32 eps (all-zero tensor)', () => {
    expect(calculateQParams(0, 0, {}).scale[0]).toBe(f32(EPS_F32));
    expect(calculateQParams(0, 0, { dtype: 'quint8', qscheme: 'per_tensor_affine' }).scale[0]).toBe(f32(EPS_F32));
  });
  it('affine: the zero point rounds half to even', () => {
    // range 31.875 = 255/8 -> scale 0.125 exactly; min/scale = -2.5 -> round half even -2 -> zp 2 (half-away: 3)
    const { scale, zeroPoint } = calculateQParams(-0.3125, 31.5625, { dtype: 'quint8', qscheme: 'per_tensor_affine' });
    expect(scale[0]).toBe(0.125);
    expect(zeroPoint[0]).toBe(2);
    // min/scale = -3.5 -> -4 -> zp 4
    expect(calculateQParams(-0.4375, 31.4375, { dtype: 'quint8', qscheme: 'per_tensor_affine' }).zeroPoint[0]).toBe(4);
  });
  it('affine includes 0 in the range and clamps the zero point', () => {
    const pos = calculateQParams(2, 5.1, { dtype: 'quint8', qscheme: 'per_tensor_affine' });
    expect(pos.scale[0]).toBe(f32(f32(5.1) / 255));
    expect(pos.zeroPoint[0]).toBe(0);
    const neg = calculateQParams(-5.1, -2, { dtype: 'quint8', qscheme: 'per_tensor_affine' });
    expect(neg.zeroPoint[0]).toBe(255);
  });
  it('quint8 symmetric uses zero point 128, or the midpoint of a custom range', () => {
    expect(calculateQParams(-1, 1, { dtype: 'quint8', qscheme: 'per_tensor_symmetric' }).zeroPoint[0]).toBe(128);
    const c = calculateQParams(-1, 1, { dtype: 'quint8', qscheme: 'per_tensor_symmetric', quantMin: 0, quantMax: 127 });
    expect(c.zeroPoint[0]).toBe(63);
    expect(c.scale[0]).toBe(f32(1 / 63.5));
  });
  it('per channel arrays, dtypes and reduce_range', () => {
    const { scale } = calculateQParams([-1, 0, -0.5], [0.5, 0, 2], { qscheme: 'per_channel_symmetric' });
    expect(Array.from(scale)).toEqual([f32(1 / 127.5), f32(EPS_F32), f32(2 / 127.5)]);
    expect(dtypeRange('qint16')).toEqual({ quantMin: -32768, quantMax: 32767 });
    expect(dtypeRange('qint4')).toEqual({ quantMin: -8, quantMax: 7 });
    expect(resolveQConfig({ reduceRange: true })).toMatchObject({ quantMin: -64, quantMax: 63 });
    expect(resolveQConfig({ dtype: 'quint8', reduceRange: true })).toMatchObject({ quantMin: 0, quantMax: 127 });
    expect(calculateQParams(-1, 1, { dtype: 'qint16' }).scale[0]).toBe(f32(1 / 32767.5));
  });
  it('uninitialised range gives scale 1, zero point 0', () => {
    const q = calculateQParams(Infinity, -Infinity, {});
    expect([q.scale[0], q.zeroPoint[0]]).toEqual([1, 0]);
  });
});
