/**
 * Resize and ConvTranspose on the engine: the WGSL resample2d / addChannelBias kernels against the CPU reference,
 * the Fns' forward and backward on WebGPU against the CPU reference, and every backward (resize: nearest and
 * linear in each coordinate mode; ConvTranspose: dx, dW, db with groups, dilation, stride and output padding)
 * against central finite differences. Both ops are linear in each input, so a difference quotient with a large
 * step is exact up to float32 rounding. (The forward values themselves are checked against onnxruntime on the
 * PyTorch fixtures: onnx-import*.test.ts, resize_ops_*.onnx.)
 */
import { afterAll, describe, expect, it } from 'vitest';
import { Tape, Var, type Fn } from '../src/engine/autograd.ts';
import type { Backend } from '../src/engine/backend.ts';
import { convTranspose2dFn, type ConvTransposeAttrs } from '../src/engine/fns/conv-transpose.ts';
import { resampleFn, tapsToAxis, transposeAxis, type ResampleAttrs } from '../src/engine/fns/resample.ts';
import { createCpuBackend } from '../src/engine/reference/cpu-backend.ts';
import { resizeTaps, type ResizeAttrs } from '../src/qmath/resize-taps.ts';
import { convTransposeOutSize } from '../src/sim/int/conv-transpose.ts';
import { destroyTestBackend, getTestBackend } from './helpers/gpu.ts';
import { expectAllClose } from './helpers/reference-gradcheck.ts';
import { mulberry32 } from './helpers/random.ts';

afterAll(destroyTestBackend);

const rand = (n: number, seed: number) => {
  const r = mulberry32(seed);
  return Float32Array.from({ length: n }, () => r() * 2 - 1);
};
const prod = (s: readonly number[]) => s.reduce((a, b) => a * b, 1);

interface In { data: Float32Array; shape: number[] }

/** Output and the gradients of sum(y · r) for every input (null where an input is absent). */
async function run<A>(be: Backend, fn: Fn<A>, attrs: A, ins: In[], r: Float32Array | null): Promise<{ y: Float32Array; yShape: number[]; grads: Float32Array[] }> {
  const vars = ins.map((t) => new Var(be.upload(t.data, t.shape), true));
  const tape = new Tape(be);
  const y = tape.apply(fn, vars, attrs);
  const out = await be.read(y.value);
  const yShape = [...y.shape];
  const grads: Float32Array[] = [];
  if (r) {
    const seed = be.upload(r, y.shape);
    tape.backward(y, seed);
    for (const v of vars) grads.push(await be.read(v.grad!));
    be.release(seed);
  }
  tape.dispose();
  for (const v of vars) {
    be.release(v.value);
    if (v.grad) be.release(v.grad);
  }
  return { y: out, yShape, grads };
}

/** Central differences of sum(f(inputs) · r) with respect to input k. */
async function numeric<A>(fn: Fn<A>, attrs: A, ins: In[], k: number, r: Float32Array): Promise<Float32Array> {
  const be = createCpuBackend();
  const g = new Float32Array(ins[k].data.length);
  const h = 0.5;
  for (let i = 0; i < g.length; i++) {
    const at = async (d: number) => {
      const data = Float32Array.from(ins[k].data);
      data[i] += d;
      const { y } = await run(be, fn, attrs, ins.map((t, j) => (j === k ? { data, shape: t.shape } : t)), null);
      let s = 0;
      for (let j = 0; j < y.length; j++) s += y[j] * r[j];
      return s;
    };
    g[i] = ((await at(h)) - (await at(-h))) / (2 * h);
  }
  return g;
}

const RESIZES: Array<[string, ResizeAttrs, number, number]> = [
  ['nearest x2 asymmetric floor', { mode: 'nearest', coord: 'asymmetric', nearest: 'floor', outH: 10, outW: 12, scaleH: 2, scaleW: 2 }, 5, 6],
  ['nearest 5x6 -> 7x11 half_pixel round_prefer_floor', { mode: 'nearest', coord: 'half_pixel', nearest: 'round_prefer_floor', outH: 7, outW: 11, scaleH: 7 / 5, scaleW: 11 / 6 }, 5, 6],
  ['linear x2 pytorch_half_pixel', { mode: 'linear', coord: 'pytorch_half_pixel', nearest: 'round_prefer_floor', outH: 10, outW: 12, scaleH: 2, scaleW: 2 }, 5, 6],
  ['linear 5x6 -> 7x11 align_corners', { mode: 'linear', coord: 'align_corners', nearest: 'round_prefer_floor', outH: 7, outW: 11, scaleH: 7 / 5, scaleW: 11 / 6 }, 5, 6],
  ['linear 5x6 -> 3x2 half_pixel (downsampling)', { mode: 'linear', coord: 'half_pixel', nearest: 'round_prefer_floor', outH: 3, outW: 2, scaleH: 0.6, scaleW: 1 / 3 }, 5, 6],
  ['linear x3 asymmetric', { mode: 'linear', coord: 'asymmetric', nearest: 'round_prefer_floor', outH: 15, outW: 18, scaleH: 3, scaleW: 3 }, 5, 6],
];

function resizeAttrs(a: ResizeAttrs, H: number, W: number): ResampleAttrs {
  const t = resizeTaps(a, H, W);
  return { rows: tapsToAxis(t.rows), cols: tapsToAxis(t.cols) };
}

describe('resize: resample2d on WebGPU vs the CPU reference, backward vs finite differences', () => {
  for (const [name, a, H, W] of RESIZES) {
    it(name, async () => {
      const attrs = resizeAttrs(a, H, W);
      const x: In = { data: rand(2 * 3 * H * W, 1), shape: [2, 3, H, W] };
      const r = rand(2 * 3 * a.outH * a.outW, 2);
      const cpu = await run(createCpuBackend(), resampleFn, attrs, [x], r);
      expect(cpu.yShape).toEqual([2, 3, a.outH, a.outW]);
      // each output is a convex combination of its taps
      for (let i = 0; i < 3 * a.outH; i++) expect(Math.abs(cpu.y[i])).toBeLessThanOrEqual(1);
      const be = await getTestBackend();
      const live = be.liveTensors();
      const gpu = await run(be, resampleFn, attrs, [x], r);
      expect(be.liveTensors()).toBe(live);
      expectAllClose(gpu.y, cpu.y, 1e-6, 1e-7, `${name} forward`);
      expectAllClose(gpu.grads[0], cpu.grads[0], 1e-6, 1e-7, `${name} backward`);
      expectAllClose(cpu.grads[0], await numeric(resampleFn, attrs, [x], 0, r), 1e-4, 1e-5, `${name} vs finite differences`);
    });
  }

  it('the transposed table of a transposed table is the table', () => {
    const { rows } = resizeAttrs(RESIZES[3][1], 5, 6);
    const back = transposeAxis(transposeAxis(rows));
    expect(Array.from(back.start)).toEqual(Array.from(rows.start));
    expect(Array.from(back.index)).toEqual(Array.from(rows.index));
    expect(Array.from(back.weight)).toEqual(Array.from(rows.weight));
  });

  it('addChannelBias on WebGPU equals the CPU reference (one f32 add)', async () => {
    const x = rand(2 * 5 * 3 * 4, 3), b = rand(5, 4);
    const cpu = createCpuBackend();
    const want = await cpu.read(cpu.addChannelBias(cpu.upload(x, [2, 5, 3, 4]), cpu.upload(b, [5])));
    const be = await getTestBackend();
    const xt = be.upload(x, [2, 5, 3, 4]), bt = be.upload(b, [5]);
    const y = be.addChannelBias(xt, bt);
    expect(Array.from(await be.read(y))).toEqual(Array.from(want));
    for (const t of [xt, bt, y]) be.release(t);
    expect(() => cpu.addChannelBias(cpu.upload(x, [2, 5, 3, 4]), cpu.upload(b.subarray(0, 4), [4]))).toThrow(/bias \[4\] for \[2,5,3,4\]/);
  });
});

const CONVT: Array<[string, { C: number; O: number; k: [number, number]; H: number; W: number; s: [number, number]; p: [number, number]; d: [number, number]; op: [number, number]; g: number }]> = [
  ['k2 s2 (UNet up-sampling)', { C: 4, O: 3, k: [2, 2], H: 3, W: 4, s: [2, 2], p: [0, 0], d: [1, 1], op: [0, 0], g: 1 }],
  ['k3 s2 p1 output_padding 1, groups 2', { C: 4, O: 6, k: [3, 3], H: 3, W: 3, s: [2, 2], p: [1, 1], d: [1, 1], op: [1, 1], g: 2 }],
  ['k3 stride (2, 1) pad 2 dilation 2 output_padding (1, 0)', { C: 2, O: 3, k: [3, 3], H: 4, W: 3, s: [2, 1], p: [2, 2], d: [2, 2], op: [1, 0], g: 1 }],
  ['depthwise k3 s1 p1 (groups = channels)', { C: 3, O: 3, k: [3, 3], H: 4, W: 4, s: [1, 1], p: [1, 1], d: [1, 1], op: [0, 0], g: 3 }],
];

describe('ConvTranspose: forward and backward on WebGPU vs the CPU reference, gradients vs finite differences', () => {
  for (const [name, c] of CONVT) {
    it(name, async () => {
      const OH = convTransposeOutSize(c.H, c.k[0], c.s[0], c.p[0], c.d[0], c.op[0]);
      const OW = convTransposeOutSize(c.W, c.k[1], c.s[1], c.p[1], c.d[1], c.op[1]);
      const attrs: ConvTransposeAttrs = {
        conv: { strideH: c.s[0], strideW: c.s[1], padH: c.p[0], padW: c.p[1], dilationH: c.d[0], dilationW: c.d[1], groups: c.g },
        outH: OH, outW: OW,
      };
      const wShape = [c.O, c.C / c.g, ...c.k];
      const ins: In[] = [
        { data: rand(2 * c.C * c.H * c.W, 5), shape: [2, c.C, c.H, c.W] },
        { data: rand(prod(wShape), 6), shape: wShape },
        { data: rand(c.O, 7), shape: [c.O] },
      ];
      const r = rand(2 * c.O * OH * OW, 8);
      const cpu = await run(createCpuBackend(), convTranspose2dFn, attrs, ins, r);
      expect(cpu.yShape).toEqual([2, c.O, OH, OW]);
      const be = await getTestBackend();
      const live = be.liveTensors();
      const gpu = await run(be, convTranspose2dFn, attrs, ins, r);
      expect(be.liveTensors()).toBe(live);
      expectAllClose(gpu.y, cpu.y, 1e-5, 1e-6, `${name} forward`);
      for (let k = 0; k < 3; k++) {
        expectAllClose(gpu.grads[k], cpu.grads[k], 1e-5, 1e-6, `${name} grad ${k} webgpu`);
        expectAllClose(cpu.grads[k], await numeric(convTranspose2dFn, attrs, ins, k, r), 1e-4, 1e-5, `${name} grad ${k} vs finite differences`);
      }
    });
  }
});
