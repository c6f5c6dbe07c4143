/** The Backend quantization ops (fake quant with packed qparams, min/max, QAT range updates): WebGPU vs CPU. */
import { afterAll, describe, expect, it } from 'vitest';
import { createCpuBackend } from '../src/engine/reference/cpu-backend.ts';
import type { Backend, BTensor, QParamsUpdate } from '../src/engine/backend.ts';
import { destroyTestBackend, getTestBackend } from './helpers/gpu.ts';
import { mulberry32 } from './helpers/random.ts';

afterAll(destroyTestBackend);

const rand = (n: number, seed: number, scale = 3) => {
  const r = mulberry32(seed);
  return Float32Array.from({ length: n }, () => (r() * 2 - 1) * scale);
};

async function runBoth<T>(f: (be: Backend) => Promise<T>): Promise<[T, T]> {
  const gpu = await getTestBackend();
  return [await f(gpu), await f(createCpuBackend())];
}

describe('QAT qparams update', () => {
  const u = (o: Partial<QParamsUpdate>): QParamsUpdate => ({
    averagingConstant: 0.01, first: false, quantMin: -128, quantMax: 127, eps: 1.1920928955078125e-7, powerOfTwo: false, ...o,
  });
  for (const pow2 of [false, true]) {
    it(`tracks ranges by moving average and derives symmetric scales${pow2 ? ' (bernoulli powers of two)' : ''}`, async () => {
      const [g, c] = await runBoth(async (be) => {
        const C = 5;
        const running = be.zeros([2, C]);
        const qp = be.zeros([C, 3]);
        const out: Float32Array[] = [];
        for (let step = 0; step < 3; step++) {
          const x = be.upload(rand(7 * C * 9, step), [7, C, 9]);
          const [mn, mx] = be.minMax(x, { outer: 7, channels: C, inner: 9 });
          be.updateQParamsInPlace(running, mn, mx, qp, u({ first: step === 0, powerOfTwo: pow2 }));
          out.push(await be.read(running), await be.read(qp));
          for (const t of [x, mn, mx] as BTensor[]) be.release(t);
        }
        be.release(running);
        be.release(qp);
        expect(be.liveTensors()).toBe(0);
        return out;
      });
      for (let i = 0; i < g.length; i++) {
        for (let k = 0; k < g[i].length; k++) expect(g[i][k]).toBeCloseTo(c[i][k], 6);
      }
      const qp = c[c.length - 1];
      const rn = c[c.length - 2];
      for (let ch = 0; ch < 5; ch++) {
        const amax = Math.max(-rn[ch], rn[5 + ch]);
        if (pow2) expect(Number.isInteger(Math.log2(qp[3 * ch]))).toBe(true);
        else expect(qp[3 * ch]).toBeCloseTo(amax / 127.5, 7);
        expect(qp[3 * ch + 1]).toBeCloseTo(1 / qp[3 * ch], 3);
      }
    });
  }

  it('a zero averaging constant freezes the range; fake quant agrees bit for bit between backends', async () => {
    const [g, c] = await runBoth(async (be) => {
      const running = be.upload(new Float32Array([-2, 1]), [2, 1]);
      const qp = be.zeros([1, 3]);
      const x = be.upload(rand(1001, 9, 4), [1001]);
      const [mn, mx] = be.minMax(x, { outer: 1, channels: 1, inner: 1001 });
      be.updateQParamsInPlace(running, mn, mx, qp, u({ averagingConstant: 0 }));
      const y = be.fakeQuantize(x, qp, { outer: 1, channels: 1, inner: 1001 }, { quantMin: -128, quantMax: 127 });
      const dy = be.upload(new Float32Array(1001).fill(1), [1001]);
      const dx = be.fakeQuantizeBackward(dy, x, qp, { outer: 1, channels: 1, inner: 1001 }, { quantMin: -128, quantMax: 127 });
      const r = [await be.read(running), await be.read(qp), await be.read(y), await be.read(dx)];
      for (const t of [running, qp, x, mn, mx, y, dy, dx]) be.release(t);
      return r;
    });
    expect(Array.from(c[0])).toEqual([-2, 1]);
    expect(c[1][0]).toBe(Math.fround(2 / 127.5));
    expect(Array.from(g[2])).toEqual(Array.from(c[2]));
    expect(Array.from(g[3])).toEqual(Array.from(c[3]));
    // Values beyond the frozen range [-2, 2] are clamped and get no gradient.
    const x = rand(1001, 9, 4);
    for (let i = 0; i < x.length; i++) if (Math.abs(x[i]) > 2.05) expect(c[3][i]).toBe(0);
  });
});
