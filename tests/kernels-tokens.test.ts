/**
 * The transformer kernels (src/engine/reference/tokens.ts, shaders/transpose.wgsl, bmm.wgsl, row_norm.wgsl):
 *  - every CPU-reference backward against central finite differences (float64): the batched matmul with each
 *    operand transposed or not, the transpose, the softmax, the layer norm (x, gamma and beta);
 *  - every WGSL kernel, forward and backward, against the float32 CPU reference;
 *  - the autograd functions (src/engine/fns/tokens.ts) on the tape: the same gradients on both backends as the
 *    finite differences of the reference forward.
 */
import { afterAll, describe, expect, it } from 'vitest';
import { Tape, Var } from '../src/engine/autograd.ts';
import type { Backend } from '../src/engine/backend.ts';
import { layerNormFn, matmulFn, softmaxFn, transposeFn } from '../src/engine/fns/tokens.ts';
import { CpuBackend } from '../src/engine/reference/cpu-backend.ts';
import * as tok from '../src/engine/reference/tokens.ts';
import { destroyTestBackend, getTestBackend } from './helpers/gpu.ts';
import { checkGrad, expectAllClose, numericGrad } from './helpers/reference-gradcheck.ts';
import { mulberry32 } from './helpers/random.ts';

afterAll(destroyTestBackend);

function rand(n: number, seed: number, type: Float32ArrayConstructor | Float64ArrayConstructor = Float64Array, lo = -1, hi = 1): Float32Array | Float64Array {
  const r = mulberry32(seed);
  const out = new type(n);
  for (let i = 0; i < n; i++) out[i] = lo + (hi - lo) * r();
  return out;
}
const size = (s: number[]) => s.reduce((a, b) => a * b, 1);
const FLAGS = [[false, false], [false, true], [true, false], [true, true]] as const;

/** a [2, 3, M, K] (or K, M), b [2, 3, K, N] (or N, K): batch 2 x 3 heads. */
function mmShapes(transA: boolean, transB: boolean, M = 5, K = 7, N = 4) {
  return { a: [2, 3, ...(transA ? [K, M] : [M, K])], b: [2, 3, ...(transB ? [N, K] : [K, N])], c: [2, 3, M, N] };
}

describe('token kernels: CPU reference backward against finite differences', () => {
  it.each(FLAGS)('matmul transA=%s transB=%s: da and db', (transA, transB) => {
    const s = mmShapes(transA, transB);
    const a = rand(size(s.a), 1) as Float64Array, b = rand(size(s.b), 2) as Float64Array, r = rand(size(s.c), 3);
    const d = tok.matmulDims(s.a, s.b, transA, transB);
    // the analytic gradients as the autograd function computes them: through the CPU backend in float64 terms
    const da = transA ? tok.matmul(b, r, tok.matmulDims(s.b, s.c, transB, true), transB, true)
      : tok.matmul(r, b, tok.matmulDims(s.c, s.b, false, !transB), false, !transB);
    const db = transB ? tok.matmul(r, a, tok.matmulDims(s.c, s.a, true, transA), true, transA)
      : tok.matmul(a, r, tok.matmulDims(s.a, s.c, !transA, false), !transA, false);
    checkGrad('da', (v) => tok.matmul(v, b, d, transA, transB), a, r, da);
    checkGrad('db', (v) => tok.matmul(a, v, d, transA, transB), b, r, db);
  });

  it('matmul refuses mismatched inner or batch dimensions', () => {
    expect(() => tok.matmulDims([2, 3, 4], [2, 5, 6], false, false)).toThrow(/inner dimensions 4 and 5/);
    expect(() => tok.matmulDims([2, 3, 4], [3, 4, 6], false, false)).toThrow(/equal leading dimensions/);
  });

  it('transpose: the inverse permutation is the backward', () => {
    const shape = [2, 3, 4, 5], perm = [0, 2, 3, 1];
    const x = rand(size(shape), 4) as Float64Array;
    const out = tok.permutedShape(shape, perm);
    expect(out).toEqual([2, 4, 5, 3]);
    const r = rand(size(out), 5);
    const inv = [0, 3, 1, 2];
    checkGrad('transpose', (v) => tok.transpose(v, shape, perm), x, r, tok.transpose(r, out, inv));
    // a known small case: [2, 3] -> [3, 2]
    expect(Array.from(tok.transpose(Float64Array.of(1, 2, 3, 4, 5, 6), [2, 3], [1, 0]))).toEqual([1, 4, 2, 5, 3, 6]);
    expect(() => tok.permutedShape([2, 3], [0, 0])).toThrow(/not a permutation/);
  });

  it('softmax: rows sum to 1, backward', () => {
    const d = 6, x = rand(4 * d, 6, Float64Array, -4, 4) as Float64Array, r = rand(4 * d, 7);
    const y = tok.softmax(x, d);
    for (let i = 0; i < 4; i++) expect(Array.from(y.slice(i * d, i * d + d)).reduce((a, b) => a + b, 0)).toBeCloseTo(1, 12);
    checkGrad('softmax', (v) => tok.softmax(v, d), x, r, tok.softmaxBackward(r, y, d));
  });

  it('layer norm: dx, dgamma, dbeta', () => {
    const d = 8, rows = 5, eps = 1e-5;
    const x = rand(rows * d, 8, Float64Array, -2, 3) as Float64Array;
    const gamma = rand(d, 9, Float64Array, 0.5, 1.5) as Float64Array, beta = rand(d, 10) as Float64Array;
    const r = rand(rows * d, 11);
    const [, stats] = tok.layerNorm(x, gamma, beta, d, eps);
    const [dx, dg, db] = tok.layerNormBackward(r, x, stats, gamma, d);
    checkGrad('dx', (v) => tok.layerNorm(v, gamma, beta, d, eps)[0], x, r, dx);
    checkGrad('dgamma', (v) => tok.layerNorm(x, v, beta, d, eps)[0], gamma, r, dg);
    checkGrad('dbeta', (v) => tok.layerNorm(x, gamma, v, d, eps)[0], beta, r, db);
  });
});

describe('token kernels: WGSL against the CPU reference', () => {
  it.each(FLAGS)('matmul transA=%s transB=%s (odd sizes)', async (transA, transB) => {
    const gpu = await getTestBackend(), cpu = new CpuBackend();
    const live = gpu.liveTensors();
    const s = mmShapes(transA, transB, 17, 33, 9);
    const a = rand(size(s.a), 12, Float32Array) as Float32Array, b = rand(size(s.b), 13, Float32Array) as Float32Array;
    const ga = gpu.upload(a, s.a), gb = gpu.upload(b, s.b), ca = cpu.upload(a, s.a), cb = cpu.upload(b, s.b);
    const gc = gpu.matmul(ga, gb, transA, transB), cc = cpu.matmul(ca, cb, transA, transB);
    expect(gc.shape).toEqual(s.c);
    expectAllClose(await gpu.read(gc), await cpu.read(cc), 1e-5, 1e-6, 'matmul');
    for (const t of [ga, gb, gc]) gpu.release(t);
    expect(gpu.liveTensors()).toBe(live);
  });

  it('transpose of ranks 2 to 5', async () => {
    const gpu = await getTestBackend(), cpu = new CpuBackend();
    const cases: [number[], number[]][] = [[[7, 5], [1, 0]], [[2, 16, 32], [0, 2, 1]], [[2, 16, 2, 16], [0, 2, 1, 3]], [[2, 16, 2, 16], [0, 2, 3, 1]], [[2, 3, 4, 5, 6], [0, 4, 2, 1, 3]]];
    for (const [shape, perm] of cases) {
      const x = rand(size(shape), 14, Float32Array) as Float32Array;
      const gx = gpu.upload(x, shape), cx = cpu.upload(x, shape);
      const gy = gpu.transpose(gx, perm);
      expect(gy.shape).toEqual(tok.permutedShape(shape, perm));
      expect(Array.from(await gpu.read(gy))).toEqual(Array.from(await cpu.read(cpu.transpose(cx, perm))));
      gpu.release(gx);
      gpu.release(gy);
    }
  });

  it('softmax forward and backward (large logits: max-subtracted)', async () => {
    const gpu = await getTestBackend(), cpu = new CpuBackend();
    const shape = [2, 2, 16, 16];
    const x = rand(size(shape), 15, Float32Array, -8, 8) as Float32Array;
    x[0] = 500; x[1] = -500;
    const dy = rand(size(shape), 16, Float32Array) as Float32Array;
    const gy = gpu.softmax(gpu.upload(x, shape)), cy = cpu.softmax(cpu.upload(x, shape));
    const gyv = await gpu.read(gy);
    expect(gyv.every(Number.isFinite)).toBe(true);
    expectAllClose(gyv, await cpu.read(cy), 1e-5, 1e-7, 'softmax');
    const gdx = gpu.softmaxBackward(gpu.upload(dy, shape), gy), cdx = cpu.softmaxBackward(cpu.upload(dy, shape), cy);
    expectAllClose(await gpu.read(gdx), await cpu.read(cdx), 1e-5, 1e-6, 'softmax backward');
  });

  it('layer norm forward and backward', async () => {
    const gpu = await getTestBackend(), cpu = new CpuBackend();
    const shape = [3, 16, 32], d = 32;
    const x = rand(size(shape), 17, Float32Array, -3, 5) as Float32Array;
    const gamma = rand(d, 18, Float32Array, 0.5, 1.5) as Float32Array, beta = rand(d, 19, Float32Array) as Float32Array;
    const dy = rand(size(shape), 20, Float32Array) as Float32Array;
    const [gy, gs] = gpu.layerNorm(gpu.upload(x, shape), gpu.upload(gamma, [d]), gpu.upload(beta, [d]), 1e-5);
    const [cy, cs] = cpu.layerNorm(cpu.upload(x, shape), cpu.upload(gamma, [d]), cpu.upload(beta, [d]), 1e-5);
    expect(gs.shape).toEqual([48, 2]);
    expectAllClose(await gpu.read(gy), await cpu.read(cy), 1e-5, 1e-6, 'layernorm y');
    expectAllClose(await gpu.read(gs), await cpu.read(cs), 1e-5, 1e-6, 'layernorm stats');
    const g = gpu.layerNormBackward(gpu.upload(dy, shape), gpu.upload(x, shape), gs, gpu.upload(gamma, [d]));
    const c = cpu.layerNormBackward(cpu.upload(dy, shape), cpu.upload(x, shape), cs, cpu.upload(gamma, [d]));
    for (let i = 0; i < 3; i++) expectAllClose(await gpu.read(g[i]), await cpu.read(c[i]), 1e-4, 1e-5, `layernorm grad ${i}`);
  });
});

describe('token functions on the tape, both backends', () => {
  it('attention core: softmax(q kᵀ) v through transposes, gradients of q, k, v against finite differences', async () => {
    // q, k, v [N=2, T=4, H=2, Dh=3] -> heads [N, H, T, Dh]; s = q kᵀ [N, H, T, T]; o = softmax(s) v
    const shape = [2, 4, 2, 3];
    const q = rand(size(shape), 21) as Float64Array, k = rand(size(shape), 22) as Float64Array, v = rand(size(shape), 23) as Float64Array;
    const r = rand(size([2, 2, 4, 3]), 24);
    const heads = [2, 2, 4, 3];
    const ref = (qq: Float64Array, kk: Float64Array, vv: Float64Array) => {
      const qh = tok.transpose(qq, shape, [0, 2, 1, 3]), kh = tok.transpose(kk, shape, [0, 2, 1, 3]), vh = tok.transpose(vv, shape, [0, 2, 1, 3]);
      const s = tok.matmul(qh, kh, tok.matmulDims(heads, heads, false, true), false, true);
      return tok.matmul(tok.softmax(s, 4), vh, tok.matmulDims([2, 2, 4, 4], heads, false, false), false, false);
    };
    const want = [numericGrad((x) => ref(x, k, v), q, r), numericGrad((x) => ref(q, x, v), k, r), numericGrad((x) => ref(q, k, x), v, r)];
    for (const be of [new CpuBackend(), await getTestBackend()] as Backend[]) {
      const live = be.liveTensors();
      const tape = new Tape(be);
      const vars = [q, k, v].map((x) => new Var(be.upload(Float32Array.from(x), shape), true));
      const [qh, kh, vh] = vars.map((x) => tape.apply(transposeFn, [x], { perm: [0, 2, 1, 3] }));
      const s = tape.apply(matmulFn, [qh, kh], { transA: false, transB: true });
      const o = tape.apply(matmulFn, [tape.apply(softmaxFn, [s], null), vh], { transA: false, transB: false });
      expectAllClose(await be.read(o.value), ref(q, k, v), 1e-5, 1e-6, `${be.kind} forward`);
      tape.backward(o, tape.own(be.upload(Float32Array.from(r), [2, 2, 4, 3])));
      for (let i = 0; i < 3; i++) expectAllClose(await be.read(vars[i].grad!), want[i], 1e-3, 1e-5, `${be.kind} grad ${'qkv'[i]}`);
      tape.dispose();
      for (const x of vars) { be.release(x.value); be.release(x.grad!); }
      expect(be.liveTensors()).toBe(live);
    }
  });

  it('layerNormFn: x, gamma, beta gradients against finite differences', async () => {
    const d = 6, shape = [2, 3, d], eps = 1e-5;
    const x = rand(size(shape), 25, Float64Array, -2, 2) as Float64Array, gm = rand(d, 26, Float64Array, 0.5, 1.5) as Float64Array, bt = rand(d, 27) as Float64Array;
    const r = rand(size(shape), 28);
    const want = [
      numericGrad((v) => tok.layerNorm(v, gm, bt, d, eps)[0], x, r),
      numericGrad((v) => tok.layerNorm(x, v, bt, d, eps)[0], gm, r),
      numericGrad((v) => tok.layerNorm(x, gm, v, d, eps)[0], bt, r),
    ];
    for (const be of [new CpuBackend(), await getTestBackend()] as Backend[]) {
      const live = be.liveTensors();
      const tape = new Tape(be);
      const vars = [[x, shape], [gm, [d]], [bt, [d]]].map(([t, s]) => new Var(be.upload(Float32Array.from(t as Float64Array), s as number[]), true));
      const y = tape.apply(layerNormFn, vars, { eps });
      tape.backward(y, tape.own(be.upload(Float32Array.from(r), shape)));
      for (let i = 0; i < 3; i++) expectAllClose(await be.read(vars[i].grad!), want[i], 1e-3, 1e-5, `${be.kind} grad ${i}`);
      tape.dispose();
      for (const v of vars) { be.release(v.value); be.release(v.grad!); }
      expect(be.liveTensors()).toBe(live);
    }
  });
});
