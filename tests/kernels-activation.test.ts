/**
 * The unary activations (Backend.unaryAct / unaryActBackward, shaders/activation.wgsl) and PReLU (composed from clamp
 * and channelScale):
 *  - the CPU reference backward against central finite differences (float64), every kind;
 *  - the WGSL kernels against the float32 CPU reference, forward and backward, including large |x| (no overflow);
 *  - PReLU's gradients (input and per-channel slope) through the op's forward, on both backends, against finite
 *    differences of its definition.
 */
import { afterAll, describe, expect, it } from 'vitest';
import { Tape, Var } from '../src/engine/autograd.ts';
import type { Backend } from '../src/engine/backend.ts';
import { unaryActFn } from '../src/engine/fns/activation.ts';
import { unaryAct, unaryActBackward } from '../src/engine/reference/activation.ts';
import { CpuBackend } from '../src/engine/reference/cpu-backend.ts';
import { UNARY_ACT_KINDS, type UnaryAct } from '../src/engine/unary-act.ts';
import type { GraphNode } from '../src/graph/ir.ts';
import { opDef } from '../src/ops/registry.ts';
import type { ForwardCtx } from '../src/ops/types.ts';
import { destroyTestBackend, getTestBackend } from './helpers/gpu.ts';
import { checkGrad, expectAllClose, numericGrad } from './helpers/reference-gradcheck.ts';
import { mulberry32 } from './helpers/random.ts';

afterAll(destroyTestBackend);

const ACTS: UnaryAct[] = [
  { kind: 'sigmoid', alpha: 0, beta: 0 },
  { kind: 'tanh', alpha: 0, beta: 0 },
  { kind: 'hardsigmoid', alpha: 0.2, beta: 0.5 },
  { kind: 'hardsigmoid', alpha: 1 / 6, beta: 0.5 },
  { kind: 'hardswish', alpha: 0, beta: 0 },
  { kind: 'silu', alpha: 0, beta: 0 },
  { kind: 'leakyrelu', alpha: 0.1, beta: 0 },
  { kind: 'clip', alpha: -0.5, beta: 1.5 },
  { kind: 'clip', alpha: -1, beta: 3.4028234663852886e38 },
  { kind: 'gelu', alpha: 0, beta: 0 },
  { kind: 'gelu_tanh', alpha: 0, beta: 0 },
];

/** The kinks of f, kept away from by the finite differences. */
const kinks = (a: UnaryAct): number[] => {
  switch (a.kind) {
    case 'hardsigmoid': return [-a.beta / a.alpha, (1 - a.beta) / a.alpha];
    case 'hardswish': return [-3, 3];
    case 'leakyrelu': return [0];
    case 'clip': return [a.alpha, a.beta];
    default: return [];
  }
};

function inputs(n: number, seed: number, a: UnaryAct, type: Float32ArrayConstructor | Float64ArrayConstructor = Float32Array) {
  const r = mulberry32(seed);
  const x = new type(n);
  for (let i = 0; i < n; i++) {
    let v = -6 + 12 * r();
    while (kinks(a).some((k) => Math.abs(v - k) < 1e-3)) v += 2e-3;
    x[i] = v;
  }
  return x;
}

describe('unary activations: CPU reference', () => {
  it('covers every kind', () => expect(new Set(ACTS.map((a) => a.kind))).toEqual(new Set(UNARY_ACT_KINDS)));

  it.each(ACTS.map((a) => [`${a.kind}(${a.alpha}, ${a.beta})`, a] as const))('%s backward against finite differences', (_n, a) => {
    const x = inputs(64, 3, a, Float64Array) as Float64Array;
    const r = Float64Array.from(inputs(64, 4, { kind: 'sigmoid', alpha: 0, beta: 0 }, Float64Array));
    const analytic = unaryActBackward(r, x, a);
    checkGrad(a.kind, (v) => unaryAct(v, a), x, r, analytic, 1e-5, 1e-7);
  });
});

describe('unary activations: WGSL against the CPU reference', () => {
  it.each(ACTS.map((a) => [`${a.kind}(${a.alpha}, ${a.beta})`, a] as const))('%s forward and backward', async (_n, a) => {
    const gpu = await getTestBackend();
    const live = gpu.liveTensors();
    const x = inputs(1000, 7, a) as Float32Array;
    x.set([0, -0, 3, -3, 50, -50, 100, -100, 1e30, -1e30], 0); // flat ends and overflow-prone inputs
    const dy = inputs(1000, 8, { kind: 'sigmoid', alpha: 0, beta: 0 }) as Float32Array;
    const tx = gpu.upload(x, [10, 100]), tdy = gpu.upload(dy, [10, 100]);
    const y = gpu.unaryAct(tx, a), dx = gpu.unaryActBackward(tdy, tx, a);
    const gy = await gpu.read(y), gdx = await gpu.read(dx);
    expect(gy.every(Number.isFinite) && gdx.every(Number.isFinite)).toBe(true);
    expectAllClose(gy, unaryAct(x, a), 2e-6, 1e-7, `${a.kind} forward`);
    expectAllClose(gdx, unaryActBackward(dy, x, a), 2e-6, 1e-7, `${a.kind} backward`);
    for (const t of [tx, tdy, y, dx]) gpu.release(t);
    expect(gpu.liveTensors()).toBe(live);
  });

  it('unaryActFn on the tape: the same gradient on both backends', async () => {
    const a: UnaryAct = { kind: 'silu', alpha: 0, beta: 0 };
    const x = inputs(60, 9, a) as Float32Array, dy = inputs(60, 10, a) as Float32Array;
    const got: Float32Array[] = [];
    for (const be of [new CpuBackend(), await getTestBackend()] as Backend[]) {
      const tape = new Tape(be);
      const xv = new Var(be.upload(x, [60]), true);
      tape.backward(tape.apply(unaryActFn, [xv], a), tape.own(be.upload(dy, [60])));
      got.push(await be.read(xv.grad!));
      tape.dispose();
      be.release(xv.value);
      be.release(xv.grad!);
    }
    expectAllClose(got[1], got[0], 2e-6, 1e-7, 'silu dx');
  });
});

describe('PReLU (composed forward and backward)', () => {
  const prelu = opDef('prelu');
  const node: GraphNode = { id: 'p', op: 'prelu', inputs: ['x'], attrs: {}, params: { slope: 'p.slope' }, namespace: '', shape: [3, 2, 2] };
  /** y = x >= 0 ? x : a[c] x on [N, C, H, W]. */
  const ref = (x: Float64Array, a: Float64Array, C: number, inner: number) =>
    Float64Array.from(x, (v, i) => (v >= 0 ? v : a[Math.floor(i / inner) % C] * v));

  it.each([['per channel', 3], ['one slope', 1]] as const)('%s: dx and dslope against finite differences, both backends', async (_n, C) => {
    const N = 2, shape = [N, 3, 2, 2], size = 24, inner = 4;
    const x = inputs(size, 11, { kind: 'leakyrelu', alpha: 0, beta: 0 }) as Float32Array;
    const a = Float32Array.from({ length: C }, (_, i) => 0.1 + 0.2 * i - (i === 2 ? 0.6 : 0));
    const dy = inputs(size, 12, { kind: 'sigmoid', alpha: 0, beta: 0 }) as Float32Array;
    const x64 = Float64Array.from(x), a64 = Float64Array.from(a), dy64 = Float64Array.from(dy);
    const wantDx = numericGrad((v) => ref(v, a64, C, C === 1 ? size : inner), x64, dy64);
    const wantDa = numericGrad((v) => ref(x64, v, C, C === 1 ? size : inner), a64, dy64);
    expect(wantDa.some((v) => Math.abs(v) > 1e-3)).toBe(true);
    for (const be of [new CpuBackend(), await getTestBackend()] as Backend[]) {
      const live = be.liveTensors();
      const tape = new Tape(be);
      const xv = new Var(be.upload(x, shape), true), av = new Var(be.upload(a, [C]), true);
      const ctx = { param: () => av } as unknown as ForwardCtx;
      const y = prelu.forward(tape, node, [xv], ctx);
      expectAllClose(await be.read(y.value), ref(x64, a64, C, C === 1 ? size : inner), 1e-6, 1e-7, `${be.kind} forward`);
      tape.backward(y, tape.own(be.upload(dy, shape)));
      expectAllClose(await be.read(xv.grad!), wantDx, 1e-4, 1e-5, `${be.kind} dx`);
      expectAllClose(await be.read(av.grad!), wantDa, 1e-4, 1e-5, `${be.kind} dslope`);
      tape.dispose();
      for (const t of [xv.value, av.value, xv.grad!, av.grad!]) be.release(t);
      expect(be.liveTensors()).toBe(live);
    }
  });
});
