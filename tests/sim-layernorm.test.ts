/**
 * The integer layer norm (src/sim/int/layernorm.ts, constants from src/ops/norm/lower.ts):
 *  - the reciprocal square root (normalised-mantissa table, interpolation, exponent shift) against 1 / sqrt(W) over
 *    the whole 53-bit range;
 *  - on random rows (int8 and int16 inputs, full-range and nearly constant rows, outliers, negative gamma), within
 *    1 LSB of the fake-quant model's rule (the float32 CPU reference layer norm of f32(q · s_x), quantized with
 *    f32(y · f32(1 / s_out))), and within 0.5 + 1/64 LSB of the exact value before rounding; a table off by 2^-10
 *    fails the same check (the check can fail);
 *  - rows too long for the exact sums stay float islands; a model file with a broken layer norm is refused by name;
 *  - in a model (quantize → layernorm → dequantize, through the model file), the WGSL run (src/sim/gpu/layernorm.ts,
 *    its GPU_LAYERS entry) gives the same integers as the CPU run, constant rows and eps = 0 included.
 */
import { afterAll, describe, expect, it } from 'vitest';
import { layerNorm } from '../src/engine/reference/tokens.ts';
import type { WebGpuBackend } from '../src/engine/webgpu/webgpu-backend.ts';
import type { GraphNode } from '../src/graph/ir.ts';
import { layerNormFloatIf, layerNormParams } from '../src/ops/norm/lower.ts';
import { quantizeValue } from '../src/qmath/fake-quantize.ts';
import { decodeModelFile, encodeModelFile } from '../src/sim/model-file.ts';
import { INT_MODEL_FORMAT, INT_MODEL_VERSION, type IntModel } from '../src/sim/model.ts';
import { runIntModel } from '../src/sim/run.ts';
import { releaseGpuModel, runIntModelGpu } from '../src/sim/run-gpu.ts';
import { layerNormInt, rsqrtFixed, rsqrtTable, type LayerNormParams } from '../src/sim/int/layernorm.ts';
import type { IntArray } from '../src/sim/int/requant.ts';
import { destroyTestBackend, getTestBackend } from './helpers/gpu.ts';
import { mulberry32 } from './helpers/random.ts';

afterAll(destroyTestBackend);

const f32 = Math.fround;

interface Case {
  name: string;
  inDtype: 'int8' | 'int16';
  d: number;
  rows: number;
  sx: number;
  eps: number;
  /** Rows whose values span only this fraction of the range (nearly constant rows). */
  narrow: number;
  seed: number;
}

const CASES: Case[] = [
  { name: 'int8, d 192', inDtype: 'int8', d: 192, rows: 48, sx: 0.05, eps: 1e-5, narrow: 0.05, seed: 1 },
  { name: 'int16 full range, d 192', inDtype: 'int16', d: 192, rows: 48, sx: 2e-4, eps: 1e-6, narrow: 1e-3, seed: 2 },
  { name: 'int16, d 768, large scale', inDtype: 'int16', d: 768, rows: 16, sx: 0.5, eps: 1e-5, narrow: 1e-4, seed: 3 },
  { name: 'int16, d 2896 (the largest row)', inDtype: 'int16', d: 2896, rows: 6, sx: 1e-3, eps: 1e-5, narrow: 0.01, seed: 4 },
  { name: 'int8, d 7, eps dominates', inDtype: 'int8', d: 7, rows: 64, sx: 1e-4, eps: 1e-3, narrow: 0.05, seed: 5 },
];

/** Rows: uniform over the range, some nearly constant, some with one outlier, some offset. */
function inputs(c: Case): IntArray {
  const r = mulberry32(c.seed);
  const qmax = c.inDtype === 'int16' ? 32767 : 127;
  const x = c.inDtype === 'int16' ? new Int16Array(c.rows * c.d) : new Int8Array(c.rows * c.d);
  for (let row = 0; row < c.rows; row++) {
    const amp = row % 4 === 1 ? c.narrow : 1, offset = row % 3 === 2 ? 0.5 * qmax * (1 - amp) : 0;
    for (let i = 0; i < c.d; i++) x[row * c.d + i] = Math.round(offset + (2 * r() - 1) * qmax * amp);
    if (row % 5 === 3) x[row * c.d + Math.floor(r() * c.d)] = -qmax - 1; // an outlier
  }
  return x;
}

function gammaBeta(c: Case): { gamma: Float32Array; beta: Float32Array } {
  const r = mulberry32(c.seed + 100);
  return {
    gamma: Float32Array.from({ length: c.d }, () => f32((2 * r() - 0.4) * 1.7)),
    beta: Float32Array.from({ length: c.d }, () => f32(0.6 * (r() - 0.5))),
  };
}

/** The fake-quant model's layer norm on the dequantized integers, its output scale (its range over int16), and the exact values / s_out. */
function fakeQuant(c: Case, x: IntArray, gamma: Float32Array, beta: Float32Array) {
  const sx = f32(c.sx);
  const [y] = layerNorm(Float32Array.from(x, (q) => f32(q * sx)), gamma, beta, c.d, c.eps);
  let ymax = 0;
  for (const v of y) ymax = Math.max(ymax, Math.abs(v));
  const sOut = f32(ymax / 32767), inv = f32(1 / sOut);
  const fq = Int32Array.from(y, (v) => Math.max(-32768, Math.min(32767, quantizeValue(v, inv, 0, 'half_even'))));
  const exact = new Float64Array(x.length);
  for (let at = 0; at < x.length; at += c.d) {
    let m = 0, v = 0;
    for (let i = 0; i < c.d; i++) m += x[at + i] * sx;
    m /= c.d;
    for (let i = 0; i < c.d; i++) v += (x[at + i] * sx - m) ** 2;
    const rstd = 1 / Math.sqrt(v / c.d + c.eps);
    for (let i = 0; i < c.d; i++) exact[at + i] = ((x[at + i] * sx - m) * rstd * gamma[i] + beta[i]) / sOut;
  }
  return { sOut, fq, exact };
}

function params(c: Case, gamma: Float32Array, beta: Float32Array, sOut: number): LayerNormParams {
  const p = layerNormParams({ inDtype: c.inDtype, sx: c.sx, d: c.d, eps: c.eps, gamma, beta, sOut });
  if (typeof p === 'string') throw new Error(p);
  return p;
}

const worstAgainst = (got: IntArray, fq: Int32Array) => {
  let w = 0;
  for (let i = 0; i < got.length; i++) w = Math.max(w, Math.abs(got[i] - fq[i]));
  return w;
};

describe('integer layer norm', () => {
  it('reciprocal square root: within 2^-22 relative of 1 / sqrt(W) for W from 1 to 2^53', () => {
    const table = rsqrtTable();
    const r = mulberry32(7);
    const ws = [1, 2, 3, 4, 5, 2 ** 22 - 1, 2 ** 22, 2 ** 52, 2 ** 53 - 1];
    for (let i = 0; i < 20000; i++) ws.push(Math.min(2 ** 53 - 1, Math.floor(2 ** (53 * r()))));
    let worst = 0;
    for (const w of ws) {
      const { r: m, e } = rsqrtFixed(w, table);
      worst = Math.max(worst, Math.abs(m / 2 ** (24 + e) * Math.sqrt(w) - 1));
    }
    expect(worst).toBeLessThan(2 ** -22);
  });

  it('within 1 LSB of the fake-quant layer norm (int8 / int16 inputs, large ranges); a coarser table fails that', () => {
    for (const c of CASES) {
      const x = inputs(c);
      const { gamma, beta } = gammaBeta(c);
      const { sOut, fq, exact } = fakeQuant(c, x, gamma, beta);
      const p = params(c, gamma, beta, sOut);
      const got = layerNormInt(x, c.d, p, 'int16', -32768, 32767);
      expect(worstAgainst(got, fq), c.name).toBeLessThanOrEqual(1);
      // before its final rounding the integer result is within 1/64 LSB of the exact value
      let pre = 0;
      got.forEach((v, i) => { if (Math.abs(exact[i]) < 32767) pre = Math.max(pre, Math.abs(v - exact[i])); });
      expect(pre, c.name).toBeLessThan(0.5 + 1 / 64);
      // the same check on a table 2^-10 too large (about the precision of 1024 entries without interpolation) moves outputs above 2^11 in magnitude by 2 LSB or more
      const coarse = { ...p, rsqrtTable: p.rsqrtTable.map((k) => Math.round(k * (1 + 2 ** -10))) };
      expect(worstAgainst(layerNormInt(x, c.d, coarse, 'int16', -32768, 32767), fq), c.name).toBeGreaterThan(1);
    }
  });

  it('rows beyond the exact range stay float (floatIf); a model file with a broken layer norm is refused by name', () => {
    const g = gammaBeta({ ...CASES[0], d: 2897 });
    expect(layerNormParams({ inDtype: 'int16', sx: 1e-3, d: 2897, eps: 1e-5, ...g, sOut: 1e-3 })).toMatch(/rows of 2897 features \(at most 2896\)/);
    const node = { id: 'ln', op: 'layernorm', inputs: ['x'], shape: [4, 2897], attrs: { eps: 1e-5 }, params: {} } as unknown as GraphNode;
    expect(layerNormFloatIf(node)).toMatch(/LayerNorm over 2897 features/);
    expect(layerNormFloatIf({ ...node, shape: [4, 2896] })).toBeNull();
    // eps so large against the input's scale that eps · d² / s_x² leaves 2^53
    expect(layerNormParams({ inDtype: 'int8', sx: 1e-9, d: 192, eps: 1, ...gammaBeta(CASES[0]), sOut: 1e-3 })).toMatch(/leaves the 53-bit exact range/);

    const c = CASES[0];
    const p = params(c, gammaBeta(c).gamma, gammaBeta(c).beta, 1e-3);
    const model = (layer: Record<string, unknown>): IntModel => ({
      format: INT_MODEL_FORMAT, version: INT_MODEL_VERSION, name: 'ln', march: 'nash-e', mode: 'horizon', multiplierBits: 32,
      inputShape: [2, c.d], numClasses: 0, input: 'x', output: 'out',
      layers: [
        { id: 'q', op: 'quantize', inputs: ['x'], scale: 0.05, dtype: 'int8', rounding: 'half_even' },
        { id: 'ln', op: 'layernorm', inputs: ['q'], ...p, clamp: { lo: -32768, hi: 32767 }, ...layer } as IntModel['layers'][number],
        { id: 'out', op: 'dequantize', inputs: ['ln'] },
      ],
      values: { q: { dtype: 'int8', scales: [0.05], shape: [2, c.d] }, ln: { dtype: 'int16', scales: [1e-3], shape: [2, c.d] } },
    });
    const load = (layer: Record<string, unknown>) => () => decodeModelFile(encodeModelFile(model(layer)), 'ln.qsbin');
    expect(load({})).not.toThrow();
    expect(load({ rsqrtTable: p.rsqrtTable.slice(1) })).toThrow(/ln\.qsbin: layer ln: layer norm needs a 3073-entry reciprocal square root table/);
    expect(load({ beta: p.beta.slice(1) })).toThrow(/layer ln: layer norm gamma \/ beta are not one int32 \/ integer per feature/);
    expect(load({ gamma: Int32Array.of(...p.gamma.subarray(1), 2 ** 22) })).toThrow(/a gamma multiplier needs more than 22 bits/);
    expect(load({ preShift: 3 })).toThrow(/preShift 3 is not an even number of bits/);
  });

  it('the WGSL run gives the CPU run\'s integers in a model (file round trip; constant rows, eps 0, saturating int8 outputs)', async () => {
    const gpu = (await getTestBackend()) as WebGpuBackend;
    /** quantize (s_x) → layernorm → dequantize over rows of d, written to a model file and read back. */
    const check = async (q: IntArray, c: Case, p: LayerNormParams, dtype: 'int8' | 'int16', what: string) => {
      const [lo, hi] = dtype === 'int8' ? [-128, 127] : [-32768, 32767];
      const rows = q.length / c.d, sx = f32(c.sx);
      const im: IntModel = {
        format: INT_MODEL_FORMAT, version: INT_MODEL_VERSION, name: 'ln', march: 'nash-e', mode: 'horizon', multiplierBits: 32,
        inputShape: [rows, c.d], numClasses: 0, input: 'x', output: 'out',
        layers: [
          { id: 'q', op: 'quantize', inputs: ['x'], scale: sx, dtype: c.inDtype, rounding: 'half_even' },
          { id: 'ln', op: 'layernorm', inputs: ['q'], ...p, clamp: { lo, hi } },
          { id: 'out', op: 'dequantize', inputs: ['ln'] },
        ],
        values: { q: { dtype: c.inDtype, scales: [sx], shape: [rows, c.d] }, ln: { dtype, scales: [1], shape: [rows, c.d] } },
      };
      const back = decodeModelFile(encodeModelFile(im), 'ln.qsbin');
      const x = Float32Array.from(q, (v) => f32(v * sx));
      const cpu = runIntModel(back, x, 1).outputInt.data;
      // the quantize step gives back q: the CPU run is the reference kernel's
      expect(Array.from(cpu), what).toEqual(Array.from(layerNormInt(q, c.d, p, dtype, lo, hi)));
      const got = (await runIntModelGpu(back, x, 1, gpu.ctx)).outputInt.data;
      releaseGpuModel(back, gpu.ctx);
      const bad = cpu.findIndex((v, i) => v !== got[i]);
      expect(bad, `${what}: first difference at ${bad}: CPU ${cpu[bad]}, GPU ${got[bad]}`).toBe(-1);
    };
    for (const c of CASES) {
      const x = inputs(c);
      const { gamma, beta } = gammaBeta(c);
      const { sOut } = fakeQuant(c, x, gamma, beta);
      await check(x, c, params(c, gamma, beta, sOut), 'int16', c.name);
      // an int8 output whose range covers an eighth of the values' range: the larger values saturate
      await check(x, c, params(c, gamma, beta, sOut * 32), 'int8', `${c.name}, int8 output`);
    }
    // constant rows (V = 0: the outputs are beta) with and without eps
    const c = { ...CASES[1], rows: 3 };
    const x = new Int16Array(3 * c.d).fill(-32768);
    x.fill(1234, c.d, 2 * c.d);
    x[2 * c.d] = 5;
    const { gamma, beta } = gammaBeta(c);
    for (const eps of [0, 1e-5]) {
      const p = params({ ...c, eps }, gamma, beta, 1e-3);
      const want = layerNormInt(x, c.d, p, 'int16', -32768, 32767);
      for (let i = 0; i < 2 * c.d; i++) expect(Math.abs(want[i] - beta[i % c.d] / 1e-3), `constant row, eps ${eps}`).toBeLessThanOrEqual(0.5 + 1e-6);
      await check(x, { ...c, eps }, p, 'int16', `constant rows, eps ${eps}`);
    }
  });
});
