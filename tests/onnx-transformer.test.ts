/**
 * The transformer pieces from ONNX on small hand-built models (tokens [N, 8, 6] from a Reshape of the image): the
 * decompositions exporters write read as one op each (LayerNorm, GELU in its erf and tanh forms with other operand
 * orders than the fixture's), ONNX LayerNormalization (opset 17), Softmax, MatMul of two values with a transposed
 * operand folded in, mean pooling over the tokens; outputs against onnxruntime-node on both backends; and the
 * refusals in the user's terms. The exported ViT itself: FLOAT_FIXTURES (onnx-import*.test.ts).
 */
import { afterAll, describe, expect, it } from 'vitest';
import type { Backend } from '../src/engine/backend.ts';
import { createCpuBackend } from '../src/engine/reference/cpu-backend.ts';
import { importOnnx, OnnxImportError } from '../src/io/onnx/import.ts';
import type { NodeProto, TensorProto } from '../src/io/onnx/proto.ts';
import { destroyTestBackend, getTestBackend } from './helpers/gpu.ts';
import { floatInit, int, int64Init, ints, randomInput, relError, runOrt, runOurs, tinyModel } from './helpers/onnx.ts';

afterAll(destroyTestBackend);

const f32 = (name: string, dims: number[], values: number[]): TensorProto => ({ ...floatInit(name, dims), rawData: new Uint8Array(Float32Array.from(values).buffer) });
const scalar = (name: string, v: number) => f32(name, [], [v]);

/** input [N, 2, 4, 6] -> tokens 't' [N, 8, 6] -> `mid` (reading 't', writing 'z' [N, 8, 6]) -> mean over tokens -> Gemm(6 -> 3). */
function model(mid: NodeProto[], inits: TensorProto[] = [], opset = 13) {
  return tinyModel({
    opset,
    input: ['N', 2, 4, 6],
    nodes: [
      { opType: 'Reshape', name: 'tokens', input: ['input', 'tshape'], output: ['t'] },
      ...mid,
      { opType: 'ReduceMean', name: 'pool', input: ['z'], output: ['p'], attribute: [ints('axes', [1]), int('keepdims', 0)] },
      { opType: 'Gemm', name: 'head', input: ['p', 'hw', 'hb'], output: ['y'], attribute: [int('transB', 1)] },
    ],
    inits: [int64Init('tshape', [-1, 8, 6]), floatInit('hw', [3, 6]), floatInit('hb', [3]), ...inits],
  });
}

async function matchesOrt(bytes: Uint8Array, name: string): Promise<string[]> {
  const r = importOnnx(bytes, name);
  const shape = [3, ...r.inputShape];
  const x = randomInput(shape.reduce((a, b) => a * b, 1), 5, -3, 3);
  const want = await runOrt(bytes, x, shape);
  for (const be of [createCpuBackend(), await getTestBackend()] as Backend[]) {
    expect(relError(await runOurs(be, r.graph, r.host, x, shape), want), `${name} ${be.kind}`).toBeLessThan(1e-5);
  }
  return r.graph.nodes.map((n) => n.op);
}

const ramp = (n: number, a: number, b: number) => Array.from({ length: n }, (_, i) => a + (b - a) * i / (n - 1));

describe('transformer pieces from ONNX', () => {
  it('the opset-13 LayerNorm decomposition (Mul(d, d) for the square, gamma and beta on the other side) is one layernorm', async () => {
    const ops = await matchesOrt(model([
      { opType: 'ReduceMean', name: 'ln/mean', input: ['t'], output: ['m'], attribute: [ints('axes', [-1])] },
      { opType: 'Sub', name: 'ln/sub', input: ['t', 'm'], output: ['d'] },
      { opType: 'Mul', name: 'ln/sq', input: ['d', 'd'], output: ['d2'] },
      { opType: 'ReduceMean', name: 'ln/var', input: ['d2'], output: ['v'], attribute: [ints('axes', [2])] },
      { opType: 'Add', name: 'ln/addeps', input: ['v', 'eps'], output: ['ve'] },
      { opType: 'Sqrt', name: 'ln/sqrt', input: ['ve'], output: ['s'] },
      { opType: 'Div', name: 'ln/div', input: ['d', 's'], output: ['n'] },
      { opType: 'Mul', name: 'ln/gamma', input: ['g', 'n'], output: ['ng'] },
      { opType: 'Add', name: 'ln/beta', input: ['b', 'ng'], output: ['z'] },
    ], [scalar('eps', 1e-3), f32('g', [6], ramp(6, 0.5, 1.5)), f32('b', [6], ramp(6, -0.3, 0.3))]), 'ln13.onnx');
    expect(ops.filter((o) => o === 'layernorm')).toHaveLength(1);
    for (const o of ['sub', 'mul', 'affine', 'add']) expect(ops).not.toContain(o);
  });

  it('ONNX LayerNormalization (opset 17), without B', async () => {
    const ops = await matchesOrt(model([
      { opType: 'LayerNormalization', name: 'ln', input: ['t', 'g'], output: ['z'], attribute: [{ name: 'epsilon', type: 1, f: 1e-4 }] },
    ], [f32('g', [6], ramp(6, 0.5, 1.5))], 17), 'ln17.onnx');
    expect(ops).toContain('layernorm');
  });

  it('GELU, erf form: x · (1/√2), the 0.5 applied to x first; tanh form with x · x · x in another order: one gelu each', async () => {
    const ops = await matchesOrt(model([
      { opType: 'Mul', name: 'g1/scale', input: ['isq2', 't'], output: ['a'] },
      { opType: 'Erf', name: 'g1/erf', input: ['a'], output: ['e'] },
      { opType: 'Add', name: 'g1/add', input: ['one', 'e'], output: ['e1'] },
      { opType: 'Mul', name: 'g1/half', input: ['t', 'half'], output: ['h'] },
      { opType: 'Mul', name: 'g1/mul', input: ['e1', 'h'], output: ['u'] },
      { opType: 'Mul', name: 'g2/sq', input: ['u', 'u'], output: ['u2'] },
      { opType: 'Mul', name: 'g2/cube', input: ['u2', 'u'], output: ['c'] },
      { opType: 'Mul', name: 'g2/c3', input: ['c', 'k'], output: ['ck'] },
      { opType: 'Add', name: 'g2/inner', input: ['ck', 'u'], output: ['i'] },
      { opType: 'Mul', name: 'g2/arg', input: ['i', 'sq2pi'], output: ['ta'] },
      { opType: 'Tanh', name: 'g2/tanh', input: ['ta'], output: ['th'] },
      { opType: 'Add', name: 'g2/add', input: ['th', 'one'], output: ['t1'] },
      { opType: 'Mul', name: 'g2/mul', input: ['t1', 'u'], output: ['w'] },
      { opType: 'Mul', name: 'g2/half', input: ['half', 'w'], output: ['z'] },
    ], [scalar('isq2', Math.SQRT1_2), scalar('one', 1), scalar('half', 0.5), scalar('k', 0.044715), scalar('sq2pi', Math.sqrt(2 / Math.PI))]), 'gelu.onnx');
    expect(ops.filter((o) => o === 'gelu')).toHaveLength(2);
    for (const o of ['tanh', 'mul', 'affine', 'add']) expect(ops).not.toContain(o);
  });

  it('self-attention core: q kᵀ (kᵀ by Transpose) · scale, Softmax, · v; the transpose folds into the product', async () => {
    const ops = await matchesOrt(model([
      { opType: 'MatMul', name: 'q', input: ['t', 'wq'], output: ['q'] },
      { opType: 'MatMul', name: 'k', input: ['t', 'wk'], output: ['k'] },
      { opType: 'Transpose', name: 'kt', input: ['k'], output: ['kt'], attribute: [ints('perm', [0, 2, 1])] },
      { opType: 'MatMul', name: 'qk', input: ['q', 'kt'], output: ['s'] },
      { opType: 'Mul', name: 'scale', input: ['s', 'sc'], output: ['ss'] },
      { opType: 'Softmax', name: 'softmax', input: ['ss'], output: ['a'], attribute: [int('axis', -1)] },
      { opType: 'MatMul', name: 'av', input: ['a', 't'], output: ['z'] },
    ], [f32('wq', [6, 6], ramp(36, -0.5, 0.5)), f32('wk', [6, 6], ramp(36, 0.4, -0.6)), scalar('sc', 0.4)]), 'attention.onnx');
    // the one transpose left is the mean pooling's
    expect(ops.filter((o) => o === 'transpose')).toHaveLength(1);
    expect(ops.filter((o) => o === 'matmul')).toHaveLength(2);
    const g = importOnnx(model([
      { opType: 'MatMul', name: 'k', input: ['t', 'wk'], output: ['k'] },
      { opType: 'Transpose', name: 'kt', input: ['k'], output: ['kt'], attribute: [ints('perm', [0, 2, 1])] },
      { opType: 'MatMul', name: 'qk', input: ['t', 'kt'], output: ['s'] },
      { opType: 'MatMul', name: 'z', input: ['s', 't'], output: ['z'] },
    ], [f32('wk', [6, 6], ramp(36, 0.4, -0.6))]), 'qk.onnx').graph;
    expect(g.nodes.find((n) => n.id === 'qk')!.attrs.matmul).toEqual({ k: 6, transB: true });
    expect(g.nodes.find((n) => n.id === 'z')!.attrs.matmul).toEqual({ k: 8, transB: false });
  });

  it('refusals name the node and the reason', () => {
    const fails = (mid: NodeProto[], re: RegExp, inits: TensorProto[] = []) => {
      expect(() => importOnnx(model(mid, inits), 'bad.onnx')).toThrow(OnnxImportError);
      expect(() => importOnnx(model(mid, inits), 'bad.onnx')).toThrow(re);
    };
    fails([{ opType: 'Erf', name: 'lone_erf', input: ['t'], output: ['z'] }], /lone_erf.*Erf is supported only as part of GELU/);
    fails([
      { opType: 'Softmax', name: 'sm', input: ['t'], output: ['z'], attribute: [int('axis', 1)] },
    ], /Softmax over axis 1 of a rank-3 tensor is not supported \(only the last axis\)/);
    fails([
      { opType: 'ReduceMean', name: 'rm', input: ['t'], output: ['m'], attribute: [ints('axes', [-1])] },
      { opType: 'Sub', name: 'sub', input: ['t', 'm'], output: ['z'] },
    ], /rm.*ReduceMean is supported over H and W of an NCHW tensor, over the tokens of a \[N, T, D\] tensor, or inside a LayerNorm/);
    fails([
      { opType: 'Transpose', name: 'tt', input: ['t'], output: ['tt'], attribute: [ints('perm', [0, 2, 1])] },
      { opType: 'MatMul', name: 'mm', input: ['t', 'tt'], output: ['s'] },
      { opType: 'MatMul', name: 'bad', input: ['s', 's2'], output: ['z'] },
      { opType: 'Transpose', name: 's2', input: ['t'], output: ['s2'], attribute: [ints('perm', [0, 2, 1])] },
    ], /bad.*inner sizes 8 and 6 differ/);
  });
});
