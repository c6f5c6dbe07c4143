import { describe, expect, it } from 'vitest';
import { bpuRound, bpuRoundF32, nearbyint, roundWith } from '../src/quant/rounding.ts';
import { bernoulliShift, floorNegLog2, powerOfTwoScale, applyMarchToScales, MARCHES } from '../src/quant/march.ts';

describe('nearbyint (round half to even)', () => {
  it('rounds ties to even, both signs', () => {
    expect([0.5, 1.5, 2.5, 3.5, -1.5, -2.5, -3.5, 127.5, -128.5].map(nearbyint)).toEqual([0, 2, 2, 4, -2, -2, -4, 128, -128]);
    expect(Object.is(nearbyint(-0.5), -0)).toBe(true);
    expect(Object.is(nearbyint(-0.4), -0)).toBe(true);
  });
  it('rounds non-ties to nearest', () => {
    expect([0.49999999999999994, 0.5000000000000001, -0.5000000000000001, 2.4, -2.6].map(nearbyint)).toEqual([0, 1, -1, 2, -3]);
  });
  it('is exact for large values and passes non-finite through', () => {
    expect(nearbyint(4503599627370495.5)).toBe(4503599627370496); // 2^52 - 0.5: tie, even is 2^52
    expect(nearbyint(4503599627370493.5)).toBe(4503599627370494);
    expect(nearbyint(2 ** 53 + 2)).toBe(2 ** 53 + 2);
    expect(nearbyint(-1e300)).toBe(-1e300);
    expect(nearbyint(Infinity)).toBe(Infinity);
    expect(Number.isNaN(nearbyint(NaN))).toBe(true);
  });
});

describe('bpu_round = floor(x + 0.5)', () => {
  it('differs from half-even exactly on ties that half-even sends down', () => {
    const xs = [0.5, 1.5, 2.5, -0.5, -1.5, -2.5, 2.4, -2.6];
    expect(xs.map(bpuRound)).toEqual([1, 2, 3, 0, -1, -2, 2, -3]);
    expect(xs.map((x) => roundWith('half_even', x))).toEqual([0, 2, 2, -0, -2, -2, 2, -3]);
  });
  it('float32 evaluation rounds the addition first', () => {
    const x = Math.fround(0.5 - 2 ** -25); // 0.49999997
    expect(bpuRound(x)).toBe(0);
    expect(bpuRoundF32(x)).toBe(1);
    expect(roundWith('bpu_round', x, true)).toBe(1);
  });
});

describe('march: bernoulli power-of-two scales', () => {
  it('floor(-log2(s)) is exact at powers of two', () => {
    for (let k = -20; k <= 20; k++) expect(floorNegLog2(2 ** -k)).toBe(k);
    expect(floorNegLog2(0.3)).toBe(1);
    expect(floorNegLog2(0.0078)).toBe(7);
  });
  it('1 / 2^clamp(floor(-log2 s), 1, 14)', () => {
    expect(powerOfTwoScale(0.3)).toBe(0.5);
    expect(powerOfTwoScale(0.0078)).toBe(1 / 128); // 2^-8 < 0.0078 <= 2^-7: rounded up
    expect(powerOfTwoScale(1 / 128)).toBe(1 / 128);
    expect(powerOfTwoScale(3)).toBe(0.5); // shift clamped to >= 1
    expect(powerOfTwoScale(1e-9)).toBe(2 ** -14); // shift clamped to <= 14
    expect(bernoulliShift(0.01)).toBe(6);
  });
  it('only bernoulli changes scales', () => {
    for (const m of MARCHES) {
      const s = applyMarchToScales(Float32Array.of(0.3, 0.01), m);
      expect(Array.from(s)).toEqual(m === 'bernoulli' ? [0.5, 1 / 64] : [Math.fround(0.3), Math.fround(0.01)]);
    }
  });
});
