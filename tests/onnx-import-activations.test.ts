/**
 * ONNX import of the table activations on small hand-built models: the x · f(x) gates read as one op (either operand
 * order), every attribute path (HardSigmoid alpha / beta, LeakyRelu alpha, Clip bounds as inputs or attributes with
 * an open side, PRelu with one slope), outputs against onnxruntime-node (CPU reference), and the errors in the user's
 * terms.
 */
import { describe, expect, it } from 'vitest';
import { createCpuBackend } from '../src/engine/reference/cpu-backend.ts';
import { OnnxImportError, importOnnx } from '../src/io/onnx/import.ts';
import type { NodeProto, TensorProto } from '../src/io/onnx/proto.ts';
import { flt, floatInit, int, randomInput, relError, runOrt, runOurs, tinyModel, tinyValid } from './helpers/onnx.ts';

const f32 = (name: string, dims: number[], values: number[]): TensorProto => ({ ...floatInit(name, dims), rawData: new Uint8Array(Float32Array.from(values).buffer) });

/** Conv(2->4) -> `mid` nodes (reading 'c', writing 'r') -> GlobalAveragePool -> Flatten -> Gemm. */
function model(mid: NodeProto[], inits: TensorProto[] = [], opset = 13) {
  const v = tinyValid();
  return tinyModel({ ...v, opset, nodes: [v.nodes[0], ...mid, ...v.nodes.slice(2)], inits: [...v.inits!, ...inits] });
}

async function matchesOrt(bytes: Uint8Array, name: string) {
  const r = importOnnx(bytes, name);
  const shape = [3, ...r.inputShape];
  const x = randomInput(shape.reduce((a, b) => a * b, 1), 5, -3, 3);
  const err = relError(await runOurs(createCpuBackend(), r.graph, r.host, x, shape), await runOrt(bytes, x, shape));
  expect(err, name).toBeLessThan(1e-5);
  return r.graph.nodes.map((n) => n.op);
}

describe('table activations from ONNX', () => {
  it('Sigmoid + Mul(x, sigmoid(x)) is one silu; Mul(hardsigmoid(x), x) with 1/6, 1/2 one hardswish', async () => {
    const silu = await matchesOrt(model([
      { opType: 'Sigmoid', name: 'sig', input: ['c'], output: ['s'] },
      { opType: 'Mul', name: 'mul', input: ['c', 's'], output: ['r'] },
    ]), 'silu.onnx');
    expect(silu).toContain('silu');
    expect(silu).not.toContain('sigmoid');
    const hs = await matchesOrt(model([
      { opType: 'HardSigmoid', name: 'hsig', input: ['c'], output: ['s'], attribute: [flt('alpha', 1 / 6), flt('beta', 0.5)] },
      { opType: 'Mul', name: 'mul', input: ['s', 'c'], output: ['r'] },
    ]), 'hardswish.onnx');
    expect(hs).toContain('hardswish');
    expect(hs).not.toContain('hardsigmoid');
    expect(await matchesOrt(model([{ opType: 'HardSwish', name: 'hsw', input: ['c'], output: ['r'] }], [], 14), 'hardswish14.onnx')).toContain('hardswish');
  });

  it('a sigmoid whose output is read otherwise stays a sigmoid', async () => {
    const ops = await matchesOrt(model([
      { opType: 'Sigmoid', name: 'sig', input: ['c'], output: ['s'] },
      { opType: 'Add', name: 'add', input: ['c', 's'], output: ['r'] },
    ]), 'sigmoid-add.onnx');
    expect(ops).toContain('sigmoid');
    expect(ops).not.toContain('silu');
  });

  it('HardSigmoid (own alpha, beta), Tanh, LeakyRelu, Clip with an open bound, PRelu with one slope: as onnxruntime', async () => {
    const bytes = model([
      { opType: 'HardSigmoid', name: 'hsig', input: ['c'], output: ['a'], attribute: [flt('alpha', 0.3), flt('beta', 0.4)] },
      { opType: 'Tanh', name: 'tanh', input: ['c'], output: ['t'] },
      { opType: 'Add', name: 'add', input: ['a', 't'], output: ['at'] },
      { opType: 'LeakyRelu', name: 'leaky', input: ['at'], output: ['l'], attribute: [flt('alpha', 0.2)] },
      { opType: 'Clip', name: 'clip', input: ['l', 'lo'], output: ['k'] },
      { opType: 'PRelu', name: 'prelu', input: ['k', 'slope'], output: ['r'] },
    ], [f32('lo', [], [-0.25]), f32('slope', [1], [0.3])]);
    const ops = await matchesOrt(bytes, 'mixed.onnx');
    for (const op of ['hardsigmoid', 'tanh', 'leakyrelu', 'clip', 'prelu']) expect(ops).toContain(op);
    const g = importOnnx(bytes, 'mixed.onnx').graph;
    expect(g.nodes.find((n) => n.op === 'hardsigmoid')!.attrs.actParams!.alpha).toBeCloseTo(0.3, 7);
    expect(g.nodes.find((n) => n.op === 'clip')!.attrs.actParams).toEqual({ alpha: -0.25, beta: 3.4028234663852886e38 });
  });

  it('LeakyRelu default alpha 0.01, HardSigmoid defaults 0.2 / 0.5, Clip bounds as attributes', () => {
    const g = importOnnx(model([
      { opType: 'HardSigmoid', name: 'hsig', input: ['c'], output: ['a'] },
      { opType: 'LeakyRelu', name: 'leaky', input: ['a'], output: ['l'] },
      { opType: 'Clip', name: 'clip', input: ['l'], output: ['r'], attribute: [flt('min', -2), flt('max', 0.5)] },
    ]), 'defaults.onnx').graph;
    expect(g.nodes.find((n) => n.op === 'hardsigmoid')!.attrs.actParams).toEqual({ alpha: Math.fround(0.2), beta: 0.5 });
    expect(g.nodes.find((n) => n.op === 'leakyrelu')!.attrs.actParams!.alpha).toBe(Math.fround(0.01));
    expect(g.nodes.find((n) => n.op === 'clip')!.attrs.actParams).toEqual({ alpha: -2, beta: 0.5 });
  });
});

describe('table activation import errors name the node, the op and the reason', () => {
  const expectError = (bytes: Uint8Array, re: RegExp, node: string, op: string) => {
    let err: unknown;
    try {
      importOnnx(bytes, 'bad.onnx');
    } catch (e) {
      err = e;
    }
    expect(err).toBeInstanceOf(OnnxImportError);
    const e = err as OnnxImportError;
    expect(e.message).toMatch(re);
    expect(e.message.startsWith('bad.onnx: ')).toBe(true);
    expect(e.node).toBe(node);
    expect(e.op).toBe(op);
  };

  it('HardSigmoid alpha of the wrong type', () => expectError(model([
    { opType: 'HardSigmoid', name: 'hsig', input: ['c'], output: ['r'], attribute: [int('alpha', 1)] },
  ]), /attribute alpha must be a float/, 'hsig', 'HardSigmoid'));
  it('LeakyRelu alpha not finite', () => expectError(model([
    { opType: 'LeakyRelu', name: 'leaky', input: ['c'], output: ['r'], attribute: [flt('alpha', NaN)] },
  ]), /LeakyRelu attribute alpha must be a finite number, got NaN/, 'leaky', 'LeakyRelu'));
  it('PRelu slope that is not per channel', () => expectError(model([
    { opType: 'PRelu', name: 'prelu', input: ['c', 'slope'], output: ['r'] },
  ], [f32('slope', [6], [1, 2, 3, 4, 5, 6])]), /PRelu slope of shape \[6\] is not per channel: expected one value or \[4, 1, 1\]/, 'prelu', 'PRelu'));
  it('PRelu slope computed at run time', () => expectError(model([
    { opType: 'PRelu', name: 'prelu', input: ['c', 'c'], output: ['r'] },
  ]), /PRelu slope "c" must be a constant/, 'prelu', 'PRelu'));
});
