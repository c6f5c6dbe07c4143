/**
 * The elementwise ops of issue 10 on the Backend: mul (same shape, and the per-channel gate x[N, C, H, W] *
 * s[N, C, 1, 1] of squeeze-excitation), sub and affine (x * a + b). Each Fn's backward against central finite
 * differences of its forward (CPU reference); each forward and backward on the WebGPU engine against the CPU
 * reference; the integer mul / affine kernels against exact arithmetic.
 */
import { afterAll, describe, expect, it } from 'vitest';
import { Tape, Var, type Fn } from '../src/engine/autograd.ts';
import type { Backend, Shape } from '../src/engine/backend.ts';
import { affineFn, mulFn, subFn, type AffineAttrs } from '../src/engine/fns/eltwise.ts';
import { createCpuBackend } from '../src/engine/reference/cpu-backend.ts';
import { affineInt, mulInt } from '../src/sim/int/mul.ts';
import { INT_MODEL_FORMAT, INT_MODEL_VERSION, type IntModel } from '../src/sim/model.ts';
import { execLayer, type IntTensor } from '../src/sim/run.ts';
import { expectClose, rand, rng } from './helpers/compare.ts';
import { destroyTestBackend, getTestBackend } from './helpers/gpu.ts';

afterAll(destroyTestBackend);

interface Case<A> { name: string; fn: Fn<A>; attrs: A; shapes: Shape[] }

const cases: Case<unknown>[] = [
  { name: 'mul, same shape', fn: mulFn, attrs: null, shapes: [[2, 3, 4, 5], [2, 3, 4, 5]] },
  { name: 'mul, per-channel gate [N, C, 1, 1]', fn: mulFn, attrs: null, shapes: [[2, 3, 4, 5], [2, 3, 1, 1]] },
  { name: 'mul, [N, C] vectors', fn: mulFn, attrs: null, shapes: [[3, 7], [3, 7]] },
  { name: 'sub', fn: subFn, attrs: null, shapes: [[2, 3, 4, 4], [2, 3, 4, 4]] },
  { name: 'affine x * 0.25 - 0.5', fn: affineFn as Fn<unknown>, attrs: { factor: 0.25, offset: -0.5 } satisfies AffineAttrs, shapes: [[2, 3, 5, 5]] },
  { name: 'affine x * -1.5 + 2', fn: affineFn as Fn<unknown>, attrs: { factor: -1.5, offset: 2 } satisfies AffineAttrs, shapes: [[4, 6]] },
];

/** y and the input gradients of sum(y * r) through the tape. */
async function run(be: Backend, c: Case<unknown>, xs: Float32Array[], r: Float32Array): Promise<{ y: Float32Array; grads: Float32Array[] }> {
  const tape = new Tape(be, true, true);
  // leaf Vars that want gradients: their values and gradients belong to us
  const ins = xs.map((x, i) => new Var(be.upload(x, c.shapes[i]), true));
  try {
    const y = tape.apply(c.fn, ins, c.attrs);
    const seed = be.upload(r, y.shape);
    tape.backward(y, seed);
    be.release(seed);
    const out = { y: await be.read(y.value), grads: [] as Float32Array[] };
    for (const v of ins) out.grads.push(await be.read(v.grad!));
    return out;
  } finally {
    tape.dispose();
    for (const v of ins) {
      be.release(v.value);
      if (v.grad) be.release(v.grad);
    }
  }
}

const prod = (s: Shape) => s.reduce((a, b) => a * b, 1);

describe('mul / sub / affine: backward vs finite differences (CPU reference)', () => {
  for (const [k, c] of cases.entries()) {
    it(c.name, async () => {
      const be = createCpuBackend();
      const r0 = rng(40 + k);
      const xs = c.shapes.map((s) => rand(prod(s), r0));
      const r = rand(prod(c.shapes[0]), r0);
      const { grads } = await run(be, c, xs, r);
      // sum(f(x) * r) in float64 from float32 outputs; f is linear in each input, so central differences with
      // h = 1e-2 are exact up to float32 rounding of the outputs.
      const h = 1e-2;
      const objective = async (ins: Float32Array[]) => {
        const t = new Tape(be, false, false);
        const y = await be.read(t.apply(c.fn, ins.map((x, i) => t.input(x, c.shapes[i])), c.attrs).value);
        t.dispose();
        let s = 0;
        for (let i = 0; i < y.length; i++) s += y[i] * r[i];
        return s;
      };
      for (let i = 0; i < xs.length; i++) {
        const num = new Float32Array(xs[i].length);
        for (let j = 0; j < xs[i].length; j++) {
          const p = xs.map((x) => x.slice()), m = xs.map((x) => x.slice());
          p[i][j] += h;
          m[i][j] -= h;
          num[j] = ((await objective(p)) - (await objective(m))) / (2 * h);
        }
        expectClose(grads[i], num, 1e-3, 1e-3, `d input ${i}`);
      }
      expect(be.liveTensors()).toBe(0);
    });
  }
});

describe('mul / sub / affine on the WebGPU engine vs the CPU reference', () => {
  for (const [k, c] of cases.entries()) {
    it(c.name, async () => {
      const gpu = await getTestBackend();
      const live = gpu.liveTensors();
      const r0 = rng(70 + k);
      const xs = c.shapes.map((s) => rand(prod(s), r0));
      const r = rand(prod(c.shapes[0]), r0);
      const want = await run(createCpuBackend(), c, xs, r);
      const got = await run(gpu, c, xs, r);
      expectClose(got.y, want.y, 1e-6, 1e-6, 'y');
      got.grads.forEach((g, i) => expectClose(g, want.grads[i], 1e-5, 1e-6, `d input ${i}`));
      expect(gpu.liveTensors()).toBe(live);
    });
  }
});

describe('integer mul and affine', () => {
  it('mul: the int32 product requantized with round half up, per element and per channel, saturated', () => {
    const a = Int8Array.from([100, -100, 7, -7, 127, -128, 3, 0]);
    const b = Int8Array.from([100, 100, -3, -3, 127, -128, 1, 5]);
    // m / 2^s = 1 / 64: round(a * b / 64), half up
    const y = mulInt(a, b, 1, 6, { dtype: 'int8' });
    const want = Array.from(a, (v, i) => Math.max(-128, Math.min(127, Math.floor((v * b[i]) / 64 + 0.5))));
    expect(Array.from(y)).toEqual(want);
    // per channel: b holds one value per block of 4
    const g = Int16Array.from([300, -2]);
    const yc = mulInt(a, g, 3, 10, { dtype: 'int16' });
    expect(Array.from(yc)).toEqual(Array.from(a, (v, i) => Math.floor((v * g[Math.floor(i / 4)] * 3) / 1024 + 0.5)));
    expect(() => mulInt(a, Int8Array.from([1, 2, 3]), 1, 0, { dtype: 'int8' })).toThrow(/one value per channel/);
  });

  it('affine: round(x * m / 2^s) + offset, clamped', () => {
    const x = Int8Array.from([-128, -5, 0, 5, 127]);
    const y = affineInt(x, 3, 2, -10, { dtype: 'int8' });
    expect(Array.from(y)).toEqual(Array.from(x, (v) => Math.max(-128, Math.min(127, Math.floor((v * 3) / 4 + 0.5) - 10))));
  });
});

describe('the simulator\'s mul / affine layers (fast path) = the reference kernels', () => {
  const model = (dtype: 'int8' | 'int16'): IntModel => ({
    format: INT_MODEL_FORMAT, version: INT_MODEL_VERSION, name: 't', march: 'bayes', mode: 'horizon', multiplierBits: 32, inputShape: [3, 4, 5],
    numClasses: 1, input: 'input', output: 'y', layers: [],
    values: { y: { dtype, scales: [1], shape: [3, 4, 5] } },
  });
  for (const dtype of ['int8', 'int16'] as const) {
    it(`${dtype}: random inputs, per element and per channel, with clamps and offsets`, () => {
      const r = rng(dtype === 'int8' ? 5 : 6);
      const hi = dtype === 'int8' ? 127 : 32767;
      const ints = (n: number) => {
        const v = Array.from({ length: n }, () => Math.floor((2 * r() - 1) * hi));
        return dtype === 'int8' ? Int8Array.from(v) : Int16Array.from(v);
      };
      const a = ints(2 * 60), b = ints(2 * 60), g = ints(2 * 3);
      for (const [m, s] of [[1518500250, 37], [1073741824, 30], [12345, 3], [2147483647, 62]]) {
        const rq = { multiplier: Int32Array.of(m), shift: Int32Array.of(s) };
        const im = model(dtype);
        const clamp = { lo: -hi + 5, hi: hi - 7 };
        const out = { dtype, clampMin: clamp.lo, clampMax: clamp.hi };
        const mul = (bb: IntTensor) => execLayer(im, { id: 'y', op: 'mul', inputs: ['a', 'b'], requant: rq, clamp }, [{ data: a, shape: [2, 3, 4, 5] }, bb]);
        expect(Array.from(mul({ data: b, shape: [2, 3, 4, 5] }).data)).toEqual(Array.from(mulInt(a, b, m, s, out)));
        expect(Array.from(mul({ data: g, shape: [2, 3, 1, 1] }).data)).toEqual(Array.from(mulInt(a, g, m, s, out)));
        const aff = execLayer(im, { id: 'y', op: 'affine', inputs: ['a'], requant: rq, offset: -17, clamp }, [{ data: a, shape: [2, 3, 4, 5] }]);
        expect(Array.from(aff.data)).toEqual(Array.from(affineInt(a, m, s, -17, out)));
      }
    });
  }
});
