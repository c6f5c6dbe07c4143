import { describe, expect, it } from 'vitest';
import {
  ClipStdObserver,
  createObserver,
  HistogramObserver,
  KLObserver,
  MixObserver,
  MovingAverageMinMaxObserver,
  MSEObserver,
  OBSERVER_NAMES,
  PercentileObserver,
  type ObserverConfig,
} from '../src/quant/observers/index.ts';
import { torchHistc } from '../src/quant/observers/histogram.ts';
import { klThresholdBin } from '../src/quant/observers/kl.ts';
import { histogramPercentile } from '../src/quant/observers/percentile.ts';
import { fakeQuantL2Error } from '../src/quant/fake-quantize-ref.ts';

const f32 = Math.fround;
const arr = (...v: number[]) => Float32Array.from(v);
const linspace = (a: number, b: number, n: number) => Float32Array.from({ length: n }, (_, i) => a + ((b - a) * i) / (n - 1));

describe('PyTorch observers', () => {
  it('minmax: running min/max over batches', () => {
    const o = createObserver('minmax');
    o.observe(arr(1, -2, 3), [3]);
    o.observe(arr(0.5, 4), [2]);
    expect([o.minVal[0], o.maxVal[0]]).toEqual([-2, 4]);
    expect(o.calculateQParams().scale[0]).toBe(f32(4 / 127.5));
  });

  it('moving average: first batch sets, later batches move by 0.01 in float32', () => {
    const o = new MovingAverageMinMaxObserver();
    o.observe(arr(-1, 1), [2]);
    o.observe(arr(-3, 3), [2]);
    const c = f32(0.01);
    const mn = f32(-1 + f32(c * f32(-3 - -1)));
    expect(o.minVal[0]).toBe(mn);
    expect(o.maxVal[0]).toBe(-mn);
    expect(o.minVal[0]).toBeCloseTo(-1.02, 6);
  });

  it('per channel along ch_axis', () => {
    const o = createObserver('per_channel_minmax', { chAxis: 1 });
    o.observe(arr(1, -2, 3, -4, 5, 6), [2, 3]); // columns: [1,-4], [-2,5], [3,6]
    expect(Array.from(o.minVal)).toEqual([-4, -2, 0 + 3]);
    expect(Array.from(o.maxVal)).toEqual([1, 5, 6]);
    expect(Array.from(o.calculateQParams().scale)).toEqual([f32(4 / 127.5), f32(5 / 127.5), f32(6 / 127.5)]);
  });

  it('histc with the int()-truncated range drops values outside [trunc(min), trunc(max)]', () => {
    // range [-1, 1], 4 bins of 0.5: -1.5 and 1.7 dropped; -0.2 -> bin 1, 0.3 -> bin 2
    expect(Array.from(torchHistc(arr(-1.5, -0.2, 0.3, 1.7), 4, -1, 1))).toEqual([0, 1, 1, 0]);
    // equal bounds: the tensor's own min/max, then ±1 when those are equal too
    expect(Array.from(torchHistc(arr(0.3, 0.5, 0.7), 2, 0, 0))).toEqual([1, 2]);
    expect(Array.from(torchHistc(arr(0.3, 0.3), 2, 0, 0))).toEqual([0, 2]);
    const h = new HistogramObserver({ qscheme: 'per_tensor_symmetric' });
    h.observe(arr(-1.5, -0.2, 0.3, 1.7), [4]);
    expect(h.histogram.reduce((a, b) => a + b, 0)).toBe(2);
    expect([h.minVal[0], h.maxVal[0]]).toEqual([f32(-1.5), f32(1.7)]);
  });

  it('histogram observer: uniform data keeps (almost) the full range', () => {
    const h = new HistogramObserver();
    h.observe(linspace(-10, 10, 2001), [2001]);
    h.observe(linspace(-12, 12, 2001), [2001]);
    const s = h.calculateQParams().scale[0];
    expect(s).toBeGreaterThan((0.9 * 12) / 127.5);
    expect(s).toBeLessThanOrEqual(f32(12.1 / 127.5));
  });
});

describe('Horizon calibration observers', () => {
  it('fixed_scale and clip', () => {
    const f = createObserver('fixed_scale', { scale: 0.05 });
    f.observe(arr(-100, 100), [2]);
    expect(f.calculateQParams().scale[0]).toBe(f32(0.05));
    expect(f.maxVal[0]).toBe(100);
    const c = createObserver('clip', { clipMax: 2 });
    c.observe(arr(-100, 100), [2]);
    expect(c.calculateQParams().scale[0]).toBe(f32(2 / 127.5));
    // bernoulli: 2/127.5 = 0.01569 -> 2^-6 < s <= 2^-5 -> 1/32
    expect(createObserver('clip', { clipMax: 2, march: 'bernoulli' }).calculateQParams().scale[0]).toBe(1 / 32);
  });

  it('percentile of a known distribution', () => {
    const x = Float32Array.from({ length: 10000 }, (_, i) => (i % 2 ? 1 : -1) * ((i + 1) / 10000)); // |x| uniform on (0, 1]
    const p = new PercentileObserver();
    p.observe(x, [x.length]);
    expect(Math.abs(p.threshold - 0.9999)).toBeLessThan(1e-3);
    const p50 = new PercentileObserver({ percentile: 50 });
    p50.observe(x, [x.length]);
    expect(Math.abs(p50.threshold - 0.5)).toBeLessThan(1e-3);
    // hand histogram: counts [2, 2, 4, 2] of width 1: 50 % = 5 of 10 -> bin 2, (5 - 4) / 4 in -> 2.25
    expect(histogramPercentile([2, 2, 4, 2], 1, 50)).toBe(2.25);
    // growing range redistributes old counts: the same data in two batches gives the same threshold within a bin
    const q = new PercentileObserver({ percentile: 50 });
    q.observe(x.subarray(0, 5000), [5000]);
    q.observe(x.subarray(5000), [5000]);
    expect(Math.abs(q.threshold - 0.5)).toBeLessThan(2e-3);
  });

  it('clip_std: mean ± 3 std of x, clipped to the observed range', () => {
    const x = Float32Array.from({ length: 10001 }, (_, i) => (i === 10000 ? 1000 : i % 2 ? 1 : -1));
    const o = new ClipStdObserver();
    o.observe(x, [x.length]);
    let m = 0;
    for (const v of x) m += v;
    m /= x.length;
    let v2 = 0;
    for (const v of x) v2 += (v - m) ** 2;
    const sd = Math.sqrt(v2 / x.length);
    const [lo, hi] = o.range;
    expect(lo).toBe(-1); // m - 3 sd < -1: clipped to min
    expect(hi).toBeCloseTo(m + 3 * sd, 6);
    expect(hi).toBeGreaterThan(30);
    expect(hi).toBeLessThan(31);
    expect(o.calculateQParams().scale[0]).toBe(f32(hi / 127.5));
    const plain = new ClipStdObserver();
    plain.observe(Float32Array.from({ length: 1000 }, (_, i) => (i % 2 ? 1 : -1)), [1000]);
    expect(plain.range).toEqual([-1, 1]);
  });

  it('mse on data all on one side of zero beyond the shrunk threshold (a HardSigmoid output in [0.474, 0.478]): no min > max', () => {
    // MobileNetV3's squeeze-excitation gate: the candidates f·0.478 < 0.474 clipped the range to [min, t] with
    // min > t, and calibration threw "min must be <= max". They clip everything to t: the range [t, t].
    for (const sign of [1, -1]) {
      const x = Float32Array.from(linspace(0.4743, 0.4778, 1000), (v) => sign * v);
      const o = new MSEObserver();
      o.observe(x, [x.length]);
      const q = o.calculateQParams();
      expect(o.bestFactor).toBe(1);
      expect(q.scale[0]).toBe(f32(f32(0.4778) / 127.5));
      // factor 0.5: every value clips to ±0.5·max, whose scale is 0.5·max / 127.5
      const t = 0.5 * f32(0.4778);
      expect(o.errors[50]).toBeCloseTo(fakeQuantL2Error(x, f32(t / 127.5), 0, -128, 127), 6);
      expect(o.errors[50]).toBeGreaterThan(o.errors[0]);
    }
  });

  it('mse keeps the full range of a uniform tensor', () => {
    const x = linspace(-1, 1, 20001);
    const o = new MSEObserver();
    o.observe(x, [x.length]);
    expect(o.calculateQParams().scale[0]).toBe(f32(1 / 127.5));
    expect(o.bestFactor).toBe(1);
    expect(o.factors()).toHaveLength(95);
    expect(o.factors()[94]).toBe(0.06);
  });

  it('mse on values that are all positive and far from 0 (averages of pixels): small factors clip to [0, t], never min > max', () => {
    const x = linspace(0.12, 0.125, 1000);
    const o = new MSEObserver();
    o.observe(x, [x.length]);
    const qp = o.calculateQParams();
    // the full range wins: scale = 0.125 / 127.5 (the observed maximum), every other factor clips
    expect(o.bestFactor).toBe(1);
    expect(qp.scale[0]).toBe(f32(0.125 / 127.5));
    expect(o.errors.every(Number.isFinite)).toBe(true);
  });

  it('mse clips a tensor with one outlier when the clipping error is cheaper (qint4)', () => {
    // 4-bit: keeping the outlier 20 makes the step 20/7.5 = 2.67, so every |x| <= 1 rounds to 0 (error ~ N/3 = 1365);
    // clipping to ~1.5 costs ~(20 - 1.5)^2 = 342 for the outlier plus a small rounding error.
    const x = new Float32Array(4097);
    x.set(linspace(-1, 1, 4096));
    x[4096] = 20;
    const cfg: ObserverConfig = { dtype: 'qint4' };
    const o = new MSEObserver(cfg);
    o.observe(x, [x.length]);
    const qp = o.calculateQParams();
    expect(o.bestFactor).toBeLessThan(0.2);
    expect(qp.scale[0]).toBeLessThan(f32(20 / 7.5));
    const err = (s: number) => fakeQuantL2Error(x, s, 0, -8, 7);
    expect(err(qp.scale[0])).toBeLessThan(err(f32(20 / 7.5)));
    expect(Math.min(...o.errors)).toBe(o.errors[o.factors().indexOf(o.bestFactor)]);
  });

  it('mse on a tensor of one sign (all values near -0.034): every candidate range takes 0, no min > max', () => {
    // A YOLO-style block's activation (tests/yolo-outputs.test.ts) made the shrunk range [-f·a, max] cross over.
    for (const sign of [-1, 1]) {
      const x = Float32Array.from({ length: 101 }, (_, i) => sign * (0.0337 + 0.0002 * (i / 100)));
      const o = new MSEObserver();
      o.observe(x, [x.length]);
      const qp = o.calculateQParams();
      expect(qp.scale[0]).toBeGreaterThan(0);
      // the best scale reproduces the values within half a step
      for (const v of x) expect(Math.abs(Math.round(v / qp.scale[0]) * qp.scale[0] - v)).toBeLessThanOrEqual(qp.scale[0] / 2 + 1e-9);
    }
  });

  it('kl on known histograms', () => {
    // mass uniform on the first 300 of 512 bins: any i >= 300 reproduces P exactly (KL 0), i < 300 folds mass
    // into the last bin (KL > 0): the first minimum is 300
    const h = new Float64Array(512);
    h.fill(1, 0, 300);
    const r = klThresholdBin(h, 128, 128);
    expect(r.bin).toBe(300);
    expect(r.divergences[300 - 128]).toBe(0);
    expect(r.divergences[299 - 128]).toBeGreaterThan(0);
    // uniform over all bins: only i = 512 has no outliers
    expect(klThresholdBin(new Float64Array(512).fill(1)).bin).toBe(512);
    // a spike in bin 0 and one count in bin 511: for i < 512 the outlier is folded into P[i-1] but Q (built without
    // the outliers) has 0 there, so KL > 0; at i = 512 both P and Q reproduce the histogram exactly (KL 0)
    const s = new Float64Array(512);
    s[0] = 1000;
    s[511] = 1;
    const rs = klThresholdBin(s);
    expect(rs.bin).toBe(512);
    expect(rs.divergences[0]).toBeGreaterThan(0);
  });

  it('kl observer clips a far outlier and never exceeds the observed range', () => {
    const x = new Float32Array(4097);
    x.set(linspace(-1, 1, 4096));
    x[4096] = 100;
    const k = new KLObserver();
    k.observe(x, [x.length]);
    expect(k.threshold).toBeGreaterThanOrEqual(25); // start bin 128 of 512 over [0, 100]
    expect(k.threshold).toBeLessThan(100);
    expect(k.calculateQParams().scale[0]).toBe(f32(k.threshold / 127.5));
  });

  it('mix picks the method with the smallest quantization error', () => {
    const x = new Float32Array(4097);
    x.set(linspace(-1, 1, 4096));
    x[4096] = 20;
    const o = createObserver('mix', { dtype: 'qint4' }) as MixObserver;
    o.observe(x, [x.length]);
    const qp = o.calculateQParams();
    const errs = o.errors;
    expect(Object.keys(errs)).toEqual(['minmax', 'percentile', 'mse', 'kl']);
    expect(errs[o.chosenMethod]).toBe(Math.min(...Object.values(errs)));
    expect(errs.minmax).toBeGreaterThan(errs[o.chosenMethod]);
    expect(fakeQuantL2Error(x, qp.scale[0], 0, -8, 7)).toBe(errs[o.chosenMethod]);
  });

  it('factory knows every name', () => {
    for (const name of OBSERVER_NAMES) {
      const o = createObserver(name, { scale: 0.1, clipMax: 1 });
      o.observe(linspace(-1, 1, 64), [8, 8]);
      const qp = o.calculateQParams();
      expect(qp.scale[0]).toBeGreaterThan(0);
      expect(qp.zeroPoint[0]).toBe(0);
    }
    expect(() => createObserver('nope')).toThrow(/unknown observer/);
  });
});

describe('MSE observer on a strictly positive tensor', () => {
  it('shrinking the range below its minimum keeps 0 in it (no empty range): softmax outputs, a shifted layer norm', () => {
    const o = new MSEObserver();
    o.observe(Float32Array.from({ length: 200 }, (_, i) => 0.03 + 0.003 * Math.sin(i)));
    const qp = o.calculateQParams();
    expect(qp.scale[0]).toBeGreaterThan(0);
    expect(qp.scale[0]).toBeLessThanOrEqual(0.033 / 127.5 + 1e-9);
  });
});
