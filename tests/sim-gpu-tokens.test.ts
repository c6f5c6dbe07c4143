/**
 * The WGSL runs of the simulator's token layers against their CPU runs (src/sim/int/tokens.ts), integer for integer,
 * on random inputs: matmul (src/sim/gpu/matmul.ts: batched, either operand transposed, int8 / int16, int32
 * accumulation, horizon requantization, clamps that saturate, an accumulator leaving int32 refused like the CPU) and
 * softmax (src/sim/gpu/softmax.ts: the exp table, 64-bit row sums, the fixed-point reciprocal; long and short tables,
 * narrow clamps, ties). Sizes are odd and not multiples of the 256-lane workgroup. Through runIntModelGpu, a model
 * whose matmul overflows is refused as runIntModel refuses it, before a following float island runs.
 */
import { afterAll, describe, expect, it } from 'vitest';
import type { GpuContext } from '../src/engine/webgpu/gpu-context.ts';
import { readBits, readInt, uploadBits, uploadInt } from '../src/sim/gpu/bits.ts';
import { matmulIntGpu } from '../src/sim/gpu/matmul.ts';
import { softmaxIntGpu, uploadSoftmax } from '../src/sim/gpu/softmax.ts';
import { matmulInt, softmaxInt, transposeInt } from '../src/sim/int/tokens.ts';
import { computeHorizonMultiplierShift, type IntArray, type QDType } from '../src/sim/int/requant.ts';
import { INT_MODEL_FORMAT, INT_MODEL_VERSION, type IntLayer, type IntModel } from '../src/sim/model.ts';
import { runIntModel } from '../src/sim/run.ts';
import { runIntModelGpu } from '../src/sim/run-gpu.ts';
import { destroyTestBackend, getTestBackend } from './helpers/gpu.ts';
import { mulberry32 } from './helpers/random.ts';

afterAll(destroyTestBackend);

const RANGE = { int8: [-128, 127], int16: [-32768, 32767] } as const;

function ints(dtype: 'int8' | 'int16', n: number, r: () => number, spread = 1): IntArray {
  const [lo, hi] = RANGE[dtype];
  const a = dtype === 'int8' ? new Int8Array(n) : new Int16Array(n);
  // mostly spread over the range, with the extremes mixed in
  for (let i = 0; i < n; i++) {
    const u = r();
    a[i] = u < 0.05 ? lo : u < 0.1 ? hi : Math.max(lo, Math.min(hi, Math.round((2 * r() - 1) * hi * spread)));
  }
  return a;
}

/** Runs the GPU matmul; returns the output and the status word (2^31 − 1: no refusal). */
async function gpuMatmul(ctx: GpuContext, a: IntArray, aShape: number[], b: IntArray, bShape: number[], o: { transA?: boolean; transB: boolean; m: number; s: number; dtype: QDType; lo: number; hi: number }) {
  const ta = uploadInt(ctx, a, aShape), tb = uploadInt(ctx, b, bShape);
  const status = uploadBits(ctx, Int32Array.of(0x7fffffff), [1]);
  const y = matmulIntGpu(ctx, ta, tb, { transA: o.transA, transB: o.transB, requant: { multiplier: Int32Array.of(o.m), shift: Int32Array.of(o.s) }, dtype: o.dtype, lo: o.lo, hi: o.hi, status, code: 7 });
  const data = await readInt(ctx, y);
  const [st] = await readBits(ctx, status);
  for (const t of [ta.t, tb.t, y.t, status]) ctx.release(t);
  return { data, shape: y.shape, status: st };
}

describe('simulator matmul on the GPU', () => {
  it('equals matmulInt: int8 / int16, b plain or transposed, a transposed, odd sizes, saturating clamps', async () => {
    const { ctx } = await getTestBackend();
    const r = mulberry32(11);
    let saturated = 0, checked = 0;
    const cases: Array<[number[], number, number, number, 'int8' | 'int16', 'int8' | 'int16', QDType]> = [
      [[2], 3, 5, 4, 'int8', 'int8', 'int8'],
      [[3, 2], 17, 13, 19, 'int8', 'int8', 'int8'], // 1938 outputs: several workgroups, the last one partial
      [[1, 3], 7, 31, 9, 'int16', 'int8', 'int16'], // softmax (int16) x values (int8)
      [[2], 11, 1, 23, 'int16', 'int16', 'int16'],
      [[5], 1, 64, 1, 'int8', 'int16', 'int8'],
    ];
    for (const [lead, M, K, N, da, db, dout] of cases) {
      for (const transB of [false, true]) {
        const a = ints(da, lead.reduce((p, d) => p * d, 1) * M * K, r), b = ints(db, lead.reduce((p, d) => p * d, 1) * K * N, r);
        const aShape = [...lead, M, K], bShape = transB ? [...lead, N, K] : [...lead, K, N];
        // requantization for a small and a large real scale: the large one saturates most outputs
        for (const real of [1 / (K * (da === 'int16' ? 30000 : 200)), 0.37]) {
          const { multiplier: m, shift: s } = computeHorizonMultiplierShift(real, 'nash-e');
          const [lo, hi] = dout === 'int8' ? [-128, 127] : [-32768, 32767];
          for (const clamp of [[lo, hi], [0, Math.floor(hi / 3)]]) {
            const cpu = matmulInt(a, aShape, b, bShape, transB, { multiplier: Int32Array.of(m), shift: Int32Array.of(s) }, dout, clamp[0], clamp[1]);
            const gpu = await gpuMatmul(ctx, a, aShape, b, bShape, { transB, m, s, dtype: dout, lo: clamp[0], hi: clamp[1] });
            expect(gpu.status).toBe(0x7fffffff);
            expect(gpu.shape).toEqual(cpu.shape);
            expect(gpu.data.constructor).toBe(cpu.data.constructor);
            expect(Array.from(gpu.data), `[${aShape}] x [${bShape}] real ${real} clamp ${clamp}`).toEqual(Array.from(cpu.data));
            saturated += Array.from(cpu.data).filter((v) => v === clamp[0] || v === clamp[1]).length;
            checked += cpu.data.length;
          }
        }
        // a stored transposed ([..., K, M]): the kernel's transA strides on the transpose of the same a
        const r0 = aShape.length;
        const perm = [...aShape.keys()].map((k) => (k === r0 - 2 ? r0 - 1 : k === r0 - 1 ? r0 - 2 : k));
        const at = transposeInt(a, aShape, perm);
        const { multiplier: m, shift: s } = computeHorizonMultiplierShift(0.01, 'nash-e');
        const cpu = matmulInt(a, aShape, b, bShape, transB, { multiplier: Int32Array.of(m), shift: Int32Array.of(s) }, dout, -128, 127);
        const gpu = await gpuMatmul(ctx, at.data, at.shape, b, bShape, { transA: true, transB, m, s, dtype: dout, lo: -128, hi: 127 });
        expect(Array.from(gpu.data), `transA [${at.shape}]`).toEqual(Array.from(cpu.data));
      }
    }
    expect(saturated).toBeGreaterThan(checked / 10);
    expect(saturated).toBeLessThan(checked);
  });

  it('an accumulator that leaves int32 is refused as on the CPU (status word), including exactly −2^31; 2^31 − 1 is fine', async () => {
    const { ctx } = await getTestBackend();
    const rq = { m: 1 << 30, s: 40, dtype: 'int16' as const, lo: -32768, hi: 32767, transB: false };
    const cases: Array<[number[], number[], boolean]> = [
      [[32767, 32767, 32767], [32767, 32767, 32767], true], // 3.2e9: wraps once
      [[-32768, -32768, -32768], [32767, 32767, 2], true], // exactly −2^31: |s| > 2^31 − 1 on the CPU
      [[-32768, -32768, 1, 32767, 32767], [-32768, -32768, -1, -32768, -32768], false], // wraps up and back: 2^31 − 2^31 − 1 ...
      [[32767, 32767, 1], [32767, 32767, 65535 - 32767], false],
    ];
    for (const [av, bv, refused] of cases) {
      const a = Int16Array.from(av), b = Int16Array.from(bv);
      const K = a.length;
      let exact = 0;
      for (let k = 0; k < K; k++) exact += a[k] * b[k];
      const cpuRun = () => matmulInt(a, [1, 1, K], b, [1, K, 1], false, { multiplier: Int32Array.of(rq.m), shift: Int32Array.of(rq.s) }, 'int16', rq.lo, rq.hi);
      const gpu = await gpuMatmul(ctx, a, [1, 1, K], b, [1, K, 1], rq);
      if (refused) {
        expect(cpuRun, `sum ${exact}`).toThrow(/leaves int32/);
        expect(gpu.status, `sum ${exact}`).toBe(7);
      } else {
        expect(gpu.status, `sum ${exact}`).toBe(0x7fffffff);
        expect(Array.from(gpu.data)).toEqual(Array.from(cpuRun().data));
      }
    }
  });
});

type SoftmaxLayer = Extract<IntLayer, { op: 'softmax' }>;

/** A softmax layer as convert builds it (src/ops/activation/softmax.ts) for input scale sIn, output scale sOut. */
function softmaxLayer(dtypeIn: 'int8' | 'int16', sIn: number, sOut: number, clamp: { lo: number; hi: number }): SoftmaxLayer {
  const bits = 23;
  const len = Math.min(dtypeIn === 'int16' ? 65536 : 256, Math.ceil((bits * Math.LN2 + 1) / sIn) + 1);
  const expTable = Int32Array.from({ length: len }, (_, k) => Math.round(Math.exp(-k * sIn) * 2 ** bits));
  const recipShift = Math.max(0, Math.floor(24 + Math.log2(sOut)));
  return { id: 'sm', op: 'softmax', inputs: ['x'], expTable, expBits: bits, recip: Math.round(2 ** recipShift / sOut), recipShift, clamp };
}

describe('simulator softmax on the GPU', () => {
  it('equals softmaxInt: int8 / int16 inputs, short and long tables, rows of 1 to 300, narrow clamps, constant rows', async () => {
    const { ctx } = await getTestBackend();
    const r = mulberry32(5);
    const cases: Array<['int8' | 'int16', number, number, number, QDType, [number, number]]> = [
      ['int8', 0.05, 16, 9, 'int16', [-32768, 32767]],
      ['int8', 0.3, 7, 37, 'int16', [0, 32767]], // a short table: most entries fall past it (0)
      ['int16', 2e-3, 197, 5, 'int16', [-32768, 32767]],
      ['int16', 4e-5, 300, 3, 'int16', [0, 9000]], // a table of 65536 entries, a clamp that saturates
      ['int8', 0.1, 1, 301, 'int8', [-128, 127]], // rows of one value: 1.0, saturated in int8
      ['int8', 0.02, 33, 17, 'int8', [-128, 127]],
    ];
    let saturated = 0;
    for (const [din, sIn, d, rows, dout, clamp] of cases) {
      const sOut = dout === 'int16' ? 1 / 32767 : 1 / 127;
      const l = softmaxLayer(din, sIn, sOut, { lo: clamp[0], hi: clamp[1] });
      const x = ints(din, rows * d, r, 0.3);
      if (rows > 3) x.fill(din === 'int8' ? -128 : 32767, 0, d); // a constant row: every e equal
      const cpu = softmaxInt(x, d, l.expTable, l.recip, l.recipShift, dout, clamp[0], clamp[1]);
      const table = uploadSoftmax(ctx, l);
      const tx = uploadInt(ctx, x, [rows, d]);
      const y = softmaxIntGpu(ctx, tx, table, l, dout);
      const got = await readInt(ctx, y);
      for (const t of [table, tx.t, y.t]) ctx.release(t);
      expect(got.constructor).toBe(cpu.constructor);
      expect(Array.from(got), `${din} s_in ${sIn} d ${d}`).toEqual(Array.from(cpu));
      expect(new Set(Array.from(cpu)).size).toBeGreaterThan(d > 1 ? 2 : 0);
      saturated += Array.from(cpu).filter((v) => v === clamp[1]).length;
    }
    expect(saturated).toBeGreaterThan(0);
  });

  it('refuses a layer outside the exact range and a negative table, naming the layer', async () => {
    const { ctx } = await getTestBackend();
    const l = softmaxLayer('int8', 0.05, 1 / 32767, { lo: -32768, hi: 32767 });
    expect(() => uploadSoftmax(ctx, { ...l, expTable: Int32Array.of(5, -1) })).toThrow(/sm: softmax exp table has negative entries/);
    const table = uploadSoftmax(ctx, l);
    const tx = uploadInt(ctx, new Int8Array(4), [1, 4]);
    expect(() => softmaxIntGpu(ctx, tx, table, { ...l, recipShift: 40 }, 'int16')).toThrow(/sm: softmax rows of 4 .* exact integer range/);
    expect(() => softmaxIntGpu(ctx, tx, table, { ...l, clamp: { lo: 0, hi: 40000 } }, 'int16')).toThrow(/sm: softmax clamp \[0, 40000\] is not inside int16/);
    ctx.release(table);
    ctx.release(tx.t);
  });
});

describe('runIntModelGpu: a matmul then float islands', () => {
  // q = quantize(x) [4, 8] int16; mm = q · qᵀ [4, 4] int16; g = GELU island; t = transpose island; y = dequantize(t)
  const model: IntModel = {
    format: INT_MODEL_FORMAT, version: INT_MODEL_VERSION, name: 'mm-islands', march: 'nash-e', mode: 'horizon', multiplierBits: 32,
    inputShape: [4, 8], numClasses: 4, input: 'x', output: 'y',
    values: {
      q: { dtype: 'int16', scales: [1 / 64], shape: [4, 8] },
      mm: { dtype: 'int16', scales: [1 / 16], shape: [4, 4] },
      g: { dtype: 'int16', scales: [1 / 16], shape: [4, 4] },
      t: { dtype: 'int16', scales: [1 / 16], shape: [4, 4] },
    },
    layers: [
      { id: 'q', op: 'quantize', inputs: ['x'], scale: 1 / 64, dtype: 'int16', rounding: 'half_even' },
      // s_a · s_b / s_out = 16 / 4096: m / 2^s = 2^30 / 2^38
      { id: 'mm', op: 'matmul', inputs: ['q', 'q'], transB: true, requant: { multiplier: Int32Array.of(2 ** 30), shift: Int32Array.of(38) }, clamp: { lo: -32768, hi: 32767 } },
      { id: 'g', op: 'float', inputs: ['mm'], fn: { kind: 'gelu', form: 'erf' }, reason: 'test island', rounding: 'half_even', clamp: { lo: -32768, hi: 32767 } },
      { id: 't', op: 'float', inputs: ['g'], fn: { kind: 'transpose', perm: [1, 0] }, reason: 'test island', rounding: 'half_even', clamp: { lo: -32768, hi: 32767 } },
      { id: 'y', op: 'dequantize', inputs: ['t'] },
    ],
  };

  it('the same integers as the CPU simulator; an overflowing accumulator refused by both, naming the GPU layer', async () => {
    const { ctx } = await getTestBackend();
    const r = mulberry32(3);
    const n = 3;
    const x = Float32Array.from({ length: n * 32 }, () => 2 * r() - 1);
    const cpu = runIntModel(model, x, n, { dump: true });
    const gpu = await runIntModelGpu(model, x, n, ctx, { dump: true });
    for (const id of ['q', 'mm', 'g', 't']) expect(Array.from(gpu.dumps.get(id)!.data), id).toEqual(Array.from(cpu.dumps.get(id)!.data));
    expect(Array.from(gpu.output)).toEqual(Array.from(cpu.output));
    expect(new Set(Array.from(cpu.dumps.get('g')!.data)).size).toBeGreaterThan(5);
    // x = 500: q saturates at 32767, and 8 · 32767² leaves int32
    const big = new Float32Array(n * 32).fill(500);
    expect(() => runIntModel(model, big, n)).toThrow(/leaves int32/);
    await expect(runIntModelGpu(model, big, n, ctx)).rejects.toThrow(/^mm: matmul accumulator leaves int32/);
  });
});
