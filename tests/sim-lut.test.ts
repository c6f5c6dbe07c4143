/**
 * The `lut` simulator layer (src/sim/int/lut.ts, docs/fixed-point.md §8), built by the table ops' lowering
 * (src/ops/activation/lut-lower.ts) from the input and output scales:
 *  - on EVERY input integer, the table's output is the fake quant of the float op's output (CPU reference unaryAct,
 *    then fakeQuantizePerTensor) within 1 LSB: exactly for int8 / uint8 inputs (a 256-entry table), within 1 LSB for
 *    int16 inputs (segmented, interpolated); int8 and int16 outputs; every table op, PReLU per channel;
 *  - the WGSL kernel is bit-identical to the CPU kernel on the same inputs;
 *  - a model file with a lut layer reloads to identical outputs; a table segment outside the table is refused.
 */
import { afterAll, describe, expect, it } from 'vitest';
import { unaryAct } from '../src/engine/reference/activation.ts';
import type { UnaryAct } from '../src/engine/unary-act.ts';
import type { GraphNode } from '../src/graph/ir.ts';
import { lowerLut } from '../src/ops/activation/lut-lower.ts';
import type { LowerCtx } from '../src/ops/types.ts';
import { fakeQuantizePerTensor } from '../src/qmath/fake-quantize.ts';
import { readInt, uploadInt } from '../src/sim/gpu/bits.ts';
import { lutGpu, uploadLut } from '../src/sim/gpu/lut.ts';
import { lutApply } from '../src/sim/int/lut.ts';
import { DTYPE_RANGE, type QDType } from '../src/sim/int/requant.ts';
import { decodeModelFile, encodeModelFile, ModelFileError } from '../src/sim/model-file.ts';
import { INT_MODEL_FORMAT, INT_MODEL_VERSION, type IntLayer, type IntModel } from '../src/sim/model.ts';
import { runIntModel } from '../src/sim/run.ts';
import { runIntModelGpu } from '../src/sim/run-gpu.ts';
import { destroyTestBackend, getTestBackend } from './helpers/gpu.ts';

afterAll(destroyTestBackend);

type Lut = Extract<IntLayer, { op: 'lut' }>;

const ACTS: [string, UnaryAct, number][] = [
  // name, activation, max |f| over the input range [-8, 8] (sets the output scale)
  ['Sigmoid', { kind: 'sigmoid', alpha: 0, beta: 0 }, 1],
  ['Tanh', { kind: 'tanh', alpha: 0, beta: 0 }, 1],
  ['HardSigmoid', { kind: 'hardsigmoid', alpha: Math.fround(1 / 6), beta: 0.5 }, 1],
  ['HardSwish', { kind: 'hardswish', alpha: 0, beta: 0 }, 8],
  ['SiLU', { kind: 'silu', alpha: 0, beta: 0 }, 8],
  ['LeakyReLU', { kind: 'leakyrelu', alpha: Math.fround(0.1), beta: 0 }, 8],
  ['Clip', { kind: 'clip', alpha: -1, beta: 2 }, 2],
];

const qmax = (d: QDType) => DTYPE_RANGE[d][1];

/** The lowering with a converter context reduced to what it reads. */
function lower(inDtype: QDType, outDtype: QDType, sIn: number, sOut: number, channels: number, f: (c: number, x: number) => number): Lut {
  const n: GraphNode = { id: 'act', op: 'sigmoid', inputs: ['x'], attrs: {}, params: {}, namespace: '', shape: [channels, 1, 1] };
  const ctx = {
    rounding: 'half_even',
    site: () => ({ scale: Math.fround(sOut), dtype: outDtype }),
    info: () => ({ dtype: inDtype, scales: [Math.fround(sIn)], shape: [channels, 1, 1] }),
    dtypeClamp: (d: QDType) => ({ lo: DTYPE_RANGE[d][0], hi: DTYPE_RANGE[d][1] }),
    fail: (r: string) => { throw new Error(r); },
  } as unknown as LowerCtx;
  return lowerLut(n, ctx, 'test', channels, f).layer as Lut;
}

/** Every input integer of the dtype, `channels` times (as [1, channels, count]). */
function allInputs(d: QDType, channels: number): Int8Array | Uint8Array | Int16Array {
  const [lo, hi] = DTYPE_RANGE[d];
  const count = hi - lo + 1;
  const a = d === 'int8' ? new Int8Array(count * channels) : d === 'uint8' ? new Uint8Array(count * channels) : new Int16Array(count * channels);
  for (let c = 0; c < channels; c++) for (let i = 0; i < count; i++) a[c * count + i] = lo + i;
  return a;
}

/** The fake-quant model's integer outputs for the same inputs: CPU reference forward, then fake quantization. */
function fakeQuant(x: ArrayLike<number>, sIn: number, sOut: number, outDtype: QDType, f: (c: number, v: Float32Array) => Float32Array, channels: number) {
  const per = x.length / channels;
  const out = new Int32Array(x.length);
  for (let c = 0; c < channels; c++) {
    const xf = Float32Array.from({ length: per }, (_, i) => Math.fround(x[c * per + i] * Math.fround(sIn)));
    const q = fakeQuantizePerTensor(f(c, xf), sOut, 0, DTYPE_RANGE[outDtype][0], DTYPE_RANGE[outDtype][1]).q;
    out.set(q, c * per);
  }
  return out;
}

const cases: [QDType, QDType][] = [['int8', 'int8'], ['uint8', 'int8'], ['int8', 'int16'], ['int16', 'int16'], ['int16', 'int8']];

describe('lut layer: the table against the fake quant on every input integer', () => {
  const sizes: string[] = [];
  afterAll(() => console.log(`int16-input table sizes (knots): ${sizes.join(', ')}`));

  for (const [inD, outD] of cases) {
    it.each(ACTS)(`%s, ${inD} input, ${outD} output`, async (name, a, fmax) => {
      const sIn = 8 / qmax(inD), sOut = fmax / qmax(outD);
      const layer = lower(inD, outD, sIn, sOut, 1, (_c, x) => Math.fround(unaryAct(Float64Array.of(x), a)[0]));
      const x = allInputs(inD, 1);
      const got = lutApply(x, [1, 1, x.length], layer, outD, layer.clamp.lo, layer.clamp.hi);
      const want = fakeQuant(x, sIn, sOut, outD, (_c, v) => unaryAct(v, a) as Float32Array, 1);
      let maxd = 0, differ = 0;
      for (let i = 0; i < x.length; i++) {
        const d = Math.abs(got[i] - want[i]);
        maxd = Math.max(maxd, d);
        if (d) differ++;
      }
      if (inD === 'int16') sizes.push(`${name}→${outD} ${layer.knots.length} (${differ}/65536 off by 1)`);
      expect(maxd, `${name}: ${differ} inputs differ`).toBeLessThanOrEqual(inD === 'int16' ? 1 : 0);
      // a table, not a constant: the outputs span a good part of the output range
      expect(Math.max(...got) - Math.min(...got)).toBeGreaterThan(qmax(outD) / 4);
    });
  }

  it.each([['int8'], ['int16']] as const)('PReLU, one table per channel, %s', (d) => {
    const slopes = [0.25, -0.1, 0.6].map(Math.fround);
    const sIn = 8 / qmax(d), sOut = 8 / qmax(d);
    const f = (c: number, x: number) => (x >= 0 ? x : Math.fround(x * slopes[c]));
    const layer = lower(d, d, sIn, sOut, 3, f);
    expect(layer.channels).toBe(3);
    const x = allInputs(d, 3);
    const got = lutApply(x, [1, 3, x.length / 3], layer, d, layer.clamp.lo, layer.clamp.hi);
    const want = fakeQuant(x, sIn, sOut, d, (c, v) => Float32Array.from(v, (e) => f(c, e)), 3);
    let maxd = 0;
    for (let i = 0; i < x.length; i++) maxd = Math.max(maxd, Math.abs(got[i] - want[i]));
    expect(maxd).toBeLessThanOrEqual(d === 'int16' ? 1 : 0);
  });

  it('refuses an int32 input, naming the op', () => {
    expect(() => lower('int32', 'int8', 1, 1, 1, (_c, x) => x)).toThrow(/test is a lookup table on an int8 or int16 input/);
  });
});

describe('lut layer on the GPU', () => {
  it.each([['int8', 1], ['int16', 1], ['int16', 3], ['int8', 3]] as const)('bit-identical to the CPU kernel: %s input, %i table(s)', async (d, channels) => {
    const { ctx } = await getTestBackend();
    const slopes = [0.25, -0.1, 0.6];
    const f = channels === 1 ? (_c: number, x: number) => Math.fround(x / (1 + Math.exp(-x))) : (c: number, x: number) => (x >= 0 ? x : Math.fround(x * slopes[c]));
    const layer = lower(d, d, 6 / qmax(d), 6 / qmax(d), channels, f);
    const x = allInputs(d, channels);
    const shape = [1, channels, x.length / channels];
    const want = lutApply(x, shape, layer, d, layer.clamp.lo, layer.clamp.hi);
    const table = uploadLut(ctx, layer);
    const xt = uploadInt(ctx, x, shape, d);
    const yt = lutGpu(ctx, xt, table, layer, d);
    const got = await readInt(ctx, yt);
    expect(got.constructor).toBe(want.constructor);
    let differ = 0;
    for (let i = 0; i < want.length; i++) if (got[i] !== want[i]) differ++;
    expect(differ).toBe(0);
    for (const t of [table, xt.t, yt.t]) ctx.release(t);
  });
});

describe('lut layer in a model file', () => {
  function tinyModel(d: QDType): IntModel {
    const layer = lower(d, d, 4 / qmax(d), 1 / qmax(d), 1, (_c, x) => Math.fround(Math.tanh(x)));
    return {
      format: INT_MODEL_FORMAT, version: INT_MODEL_VERSION, name: 'lut', march: 'bayes', mode: 'horizon', multiplierBits: 32,
      inputShape: [2, 3, 3], numClasses: 18, input: 'input',
      layers: [
        { id: 'q', op: 'quantize', inputs: ['input'], scale: 4 / qmax(d), dtype: d, rounding: 'half_even' },
        { ...layer, id: 'act', inputs: ['q'] },
        { id: 'dq', op: 'dequantize', inputs: ['act'] },
      ],
      values: { q: { dtype: d, scales: [4 / qmax(d)], shape: [2, 3, 3] }, act: { dtype: d, scales: [1 / qmax(d)], shape: [2, 3, 3] } },
      output: 'dq',
    };
  }

  it.each([['int8'], ['int16']] as const)('%s: reloads to identical outputs (CPU and GPU), runs tanh', async (d) => {
    const m = tinyModel(d);
    const x = Float32Array.from({ length: 4 * 18 }, (_, i) => -5 + (10 * i) / 71);
    const a = runIntModel(m, x, 4);
    const b = runIntModel(decodeModelFile(encodeModelFile(m), 'lut.qsbin'), x, 4);
    expect(Array.from(b.outputInt.data)).toEqual(Array.from(a.outputInt.data));
    const g = await runIntModelGpu(m, x, 4, (await getTestBackend()).ctx);
    expect(Array.from(g.outputInt.data)).toEqual(Array.from(a.outputInt.data));
    const sIn = 4 / qmax(d);
    const qIn = (v: number) => Math.max(DTYPE_RANGE[d][0], Math.min(qmax(d), Math.round(v / sIn)));
    for (let i = 0; i < x.length; i++) expect(Math.abs(a.output[i] - Math.tanh(qIn(x[i]) * sIn))).toBeLessThanOrEqual(1.01 / qmax(d));
  });

  it('refuses a table segment that points outside the table', () => {
    const m = tinyModel('int16');
    const l = m.layers[1] as Lut;
    l.segs[2] = l.knots.length; // segment 1 starts past the end
    expect(() => decodeModelFile(encodeModelFile(m), 'bad.qsbin')).toThrow(ModelFileError);
    expect(() => decodeModelFile(encodeModelFile(m), 'bad.qsbin')).toThrow(/bad.qsbin: layer act: table segment 1 .* is outside the table/);
  });
});
