/**
 * The fake-quant model's exact integer forward (src/qmath/requant-exact.ts, shaders/fq_exact.wgsl): the parameters
 * the device derives from float32 scales equal convert's double computation (computeHorizonMultiplierShift,
 * computeAddParamsHorizon) on random and tie-prone scales, every march kind and width; and WebGPU's outputs equal the
 * CPU reference bit for bit (int8 / int16, add, sub, mul per element and per channel, concat's rescale, global average
 * pooling; conv2d with its bias, fused add and ReLU / ReLU6).
 */
import { afterAll, describe, expect, it } from 'vitest';
import type { Backend } from '../src/engine/backend.ts';
import { createCpuBackend } from '../src/engine/reference/cpu-backend.ts';
import { requantConvExactParams, requantExactParams } from '../src/engine/webgpu/ops/fq-exact.ts';
import { quantizeBias } from '../src/qmath/bias.ts';
import { convExactParams, exactParams, type EltOp, type ExactSpec } from '../src/qmath/requant-exact.ts';
import { destroyTestBackend, getTestBackend } from './helpers/gpu.ts';
import { mulberry32 } from './helpers/random.ts';

afterAll(destroyTestBackend);

const f32 = Math.fround;
const qp = (s: number) => Float32Array.from([f32(s), f32(1 / f32(s)), 0]);
const OPS: EltOp[] = ['rescale', 'add', 'sub', 'mul', 'gap'];

/** Scale triples: random over 2^-16..2^2, MSE-style hundredths of one maximum (ratios such as 49/48), equal, powers of two. */
function scaleTriples(n: number, seed: number): [number, number, number][] {
  const r = mulberry32(seed);
  const out: [number, number, number][] = [];
  const rnd = () => f32(2 ** (-16 + 18 * r()));
  for (let i = 0; i < n; i++) {
    const k = i % 4;
    if (k === 0) out.push([rnd(), rnd(), rnd()]);
    else if (k === 1) {
      const m = rnd() / 127;
      const h = () => f32(m * (0.5 + Math.floor(r() * 51) / 100));
      out.push([h(), h(), h()]);
    } else if (k === 2) { const s = rnd(); out.push([s, s, f32(s * (r() < 0.5 ? 1 : 2))]); }
    else { const p = () => 2 ** -Math.floor(1 + r() * 14); out.push([p(), p(), p()]); }
  }
  return out;
}

describe('exact requant parameters on the device', () => {
  it('equal convert\'s double-precision derivation (multiplier, shift; add and sub at 16 bits; bernoulli)', async () => {
    const be = await getTestBackend();
    const triples = scaleTriples(160, 3);
    let compared = 0;
    for (const march of ['nash-e', 'bernoulli'] as const) {
      for (const op of OPS) {
        for (const bits of op === 'add' || op === 'sub' ? [16] : [32, 16]) {
          for (const [sa, sb, so] of triples) {
            if (march === 'bernoulli' && !Number.isInteger(Math.log2(sa) + Math.log2(sb) + Math.log2(so))) continue;
            const spec: ExactSpec = { op, march, bits, quantMin: -128, quantMax: 127 };
            const t = [qp(sa), qp(sb), qp(so)].map((q) => be.ctx.upload(q, [1, 3]));
            const count = 1 + (compared % 64); // gap: the window's values
            const pr = requantExactParams(be.ctx, spec, t[0], op === 'rescale' || op === 'gap' ? null : t[1], t[2], op === 'gap' ? count : 0);
            const words = new Int32Array((await be.ctx.read(pr)).buffer);
            for (const x of [pr, ...t]) be.ctx.release(x);
            const want = exactParams(op, f32(sa), op === 'gap' ? count : f32(sb), f32(so), march, bits);
            const got = words[3] ? { ma: words[0], mb: words[1], shift: words[2] } : null;
            expect(got, `${march} ${op} ${bits} bits, scales ${sa} ${sb} ${so}`).toEqual(want && { ma: want.ma, mb: want.mb + 0, shift: want.shift });
            compared++;
          }
        }
      }
    }
    expect(compared).toBeGreaterThan(1000);
  });
});

async function runExact(be: Backend, spec: ExactSpec, a: Float32Array, b: Float32Array | null, bShape: number[], s: number[], shape: number[]): Promise<Float32Array> {
  const ta = be.upload(a, shape), tb = b ? be.upload(b, bShape) : null;
  const q = s.map((x) => be.upload(qp(x), [1, 3]));
  const v = spec.op === 'gap' ? be.upload(new Float32Array(a.length / 32), shape.slice(0, 2)) : be.upload(new Float32Array(a.length), shape);
  const y = be.requantExact(spec, v, ta, tb, q[0], tb ? q[1] : null, q[2]);
  const out = await be.read(y);
  for (const t of [ta, tb, v, y, ...q]) if (t) be.release(t);
  return out;
}

describe('exact requant forward: WebGPU vs the CPU reference', () => {
  it('gives the same floats bit for bit', async () => {
    const gpu = await getTestBackend(), cpu = createCpuBackend();
    const r = mulberry32(7);
    const shape = [2, 3, 4, 8];
    let n = 0;
    for (const [qmin, qmax] of [[-128, 127], [-32768, 32767]]) {
      for (const march of ['nash-e', 'bernoulli'] as const) {
        for (const op of OPS) {
          for (const [sa, sb, so] of scaleTriples(8, 11 + qmax)) {
            if (march === 'bernoulli' && !Number.isInteger(Math.log2(sa) + Math.log2(sb) + Math.log2(so))) continue;
            const spec: ExactSpec = { op, march, bits: 32, quantMin: qmin, quantMax: qmax };
            const onGrid = (len: number, s: number) => Float32Array.from({ length: len }, () => f32(Math.round(qmin + r() * (qmax - qmin)) * f32(s)));
            const a = onGrid(192, sa);
            const perChannel = op === 'mul' && n % 2 === 0;
            const bShape = perChannel ? [2, 3, 1, 1] : shape;
            const b = op === 'rescale' || op === 'gap' ? null : onGrid(perChannel ? 6 : 192, sb);
            const [g, c] = [await runExact(gpu, spec, a, b, bShape, [sa, sb, so], shape), await runExact(cpu, spec, a, b, bShape, [sa, sb, so], shape)];
            expect(new Int32Array(g.buffer), `${op} ${march} [${qmin}, ${qmax}]`).toEqual(new Int32Array(c.buffer));
            n++;
          }
        }
      }
    }
    expect(n).toBeGreaterThan(30);
  });
});

describe('exact conv requantization: WebGPU vs the CPU reference', () => {
  it('the parameters per channel equal convExactParams, the bias int32 quantizeBias, the outputs bit for bit', async () => {
    const gpu = await getTestBackend(), cpu = createCpuBackend();
    const r = mulberry32(21);
    const O = 5, P = 12, N = 2, size = N * O * P;
    let cases = 0;
    for (const march of ['nash-e', 'bernoulli'] as const) {
      for (const act of ['none', 'relu', 'relu6'] as const) {
        for (const withAdd of [false, true]) {
          for (const [withBias, mode] of [[false, 'direct'], [true, 'direct'], [true, 'split']] as const) {
            const pw = (lo: number, span: number) => (march === 'bernoulli' ? 2 ** -Math.floor(lo + r() * span) : f32(2 ** -(lo + r() * span)));
            const sx = pw(3, 5), so = pw(2, 5), sa = pw(3, 5);
            const sw = Array.from({ length: O }, () => pw(6, 5));
            const spec = { march, bits: 32, quantMin: -128, quantMax: 127, act, channels: O, inner: P, mode } as const;
            // accumulators up to 2^23 (the float32 conv of integers stays exact), biases on both sides of the int32 range
            const acc = Float32Array.from({ length: size }, () => Math.round((r() - 0.5) * 2 ** (10 + r() * 13)));
            const accLo = mode === 'split' ? Float32Array.from({ length: size }, () => Math.round((r() - 0.5) * 2 ** (8 + r() * 14))) : null;
            const bias = Float32Array.from({ length: O }, (_, o) => (o === 4 ? 1e9 : (r() - 0.5) * 4));
            const bqp = Float32Array.from(sw.flatMap((w) => { const s = f32(f32(sx) * f32(w)); return [s, f32(1 / s), 0]; }));
            const a = Float32Array.from({ length: size }, () => f32(Math.round(-128 + r() * 255) * f32(sa)));
            const v = Float32Array.from({ length: size }, () => (r() - 0.5) * 10);
            const qw = Float32Array.from(sw.flatMap((w) => [f32(w), f32(1 / f32(w)), 0]));
            const run = async (be: Backend) => {
              const t = (x: Float32Array, shape: number[]) => be.upload(x, shape);
              const ts = [t(v, [N, O, 3, 4]), t(acc, [N, O, 3, 4]), accLo ? t(accLo, [N, O, 3, 4]) : null, withBias ? t(bias, [O]) : null, withBias ? t(bqp, [O, 3]) : null,
                withAdd ? t(a, [N, O, 3, 4]) : null, withAdd ? t(qp(sa), [1, 3]) : null, t(qp(sx), [1, 3]), t(qw, [O, 3]), t(qp(so), [1, 3])];
              const y = be.requantConvExact(spec, ts[0]!, ts[1]!, ts[2], ts[3], ts[4], ts[5], ts[6], ts[7]!, ts[8]!, ts[9]!);
              const out = await be.read(y);
              let params: Int32Array | null = null;
              if (be === gpu) {
                const g = gpu.ctx;
                const cp = requantConvExactParams(g, spec, ts[3] as never, ts[4] as never, ts[6] as never, ts[7] as never, ts[8] as never, ts[9] as never);
                params = new Int32Array((await g.read(cp)).buffer.slice(0));
                g.release(cp);
              }
              for (const x of [...ts, y]) if (x) be.release(x);
              return { out, params };
            };
            const g = await run(gpu), c = await run(cpu);
            const label = `${march} ${act} add ${withAdd} bias ${withBias}`;
            expect(new Int32Array(g.out.buffer), label).toEqual(new Int32Array(c.out.buffer));
            for (let o = 0; o < O; o++) {
              const want = convExactParams(f32(sx), f32(sw[o]), f32(so), withAdd ? f32(sa) : null, march, 32);
              const w = g.params!.subarray(8 + 6 * o, 14 + 6 * o);
              expect(w[4] ? { m: w[0], s: w[1], ma: w[2], ka: w[3] } : null, `${label} channel ${o}`).toEqual(want);
              if (withBias) expect(w[5], `${label} bias ${o}`).toBe(quantizeBias(bias, f32(sx), Float32Array.from(sw, f32))[o]);
            }
            cases++;
          }
        }
      }
    }
    expect(cases).toBe(36);
  });
});

describe('integers of a fake-quantized tensor on the device', () => {
  it('toInt (whole, high and low parts, per channel) equals the CPU reference and q = 16 h + l', async () => {
    const gpu = await getTestBackend(), cpu = createCpuBackend();
    const r = mulberry32(4);
    const scales = [0.013, 0.2, 2 ** -7];
    const x = Float32Array.from({ length: 3 * 40 }, (_, i) => f32(Math.round(-32768 + r() * 65535) * f32(scales[Math.floor(i / 40)])));
    const q = Float32Array.from(scales.flatMap((s) => [f32(s), f32(1 / f32(s)), 0]));
    const layout = { outer: 1, channels: 3, inner: 40 };
    const parts: Record<string, Float32Array[]> = {};
    for (const part of ['all', 'hi', 'lo'] as const) {
      parts[part] = [];
      for (const be of [gpu, cpu] as Backend[]) {
        const tx = be.upload(x, [3, 40]), tq = be.upload(q, [3, 3]);
        const y = be.toInt(tx, tq, layout, part);
        parts[part].push(await be.read(y));
        for (const t of [tx, tq, y]) be.release(t);
      }
      expect(new Int32Array(parts[part][0].buffer), part).toEqual(new Int32Array(parts[part][1].buffer));
    }
    for (let i = 0; i < x.length; i++) {
      expect(parts.all[1][i]).toBe(Math.round(x[i] / scales[Math.floor(i / 40)]));
      expect(16 * parts.hi[1][i] + parts.lo[1][i]).toBe(parts.all[1][i]);
      expect(parts.lo[1][i]).toBeGreaterThanOrEqual(0);
      expect(parts.lo[1][i]).toBeLessThan(16);
    }
  });
});
