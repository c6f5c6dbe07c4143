/**
 * ONNX import: the fixtures (exported from PyTorch 1.13 by scripts/make-onnx-fixtures.py, plus one
 * built with onnx.helper) import into the IR and compute what onnxruntime-node computes, on random
 * inputs, within 1e-4 relative, on the CPU reference backend; MobileNetV2 fuses completely; every
 * unsupported construct gets an OnnxImportError naming the node, the op and the reason.
 */
import { describe, expect, it } from 'vitest';
import { createCpuBackend } from '../src/engine/reference/cpu-backend.ts';
import { fuse } from '../src/graph/passes/fuse.ts';
import { fusionReport } from '../src/graph/passes/check.ts';
import { prepare } from '../src/quant/prepare.ts';
import { qconfigTemplate } from '../src/quant/qconfig.ts';
import { importOnnx, normalizationFrom, OnnxImportError } from '../src/io/onnx/import.ts';
import {
  FLOAT_FIXTURES, fixture, flt, floatInit, int, int64Init, ints, randomInput, relError, runOrt, runOurs, str, tinyModel,
  tinyValid, type TinyModel,
} from './helpers/onnx.ts';

const prod = (s: number[]) => s.reduce((a, b) => a * b, 1);

describe('ONNX fixtures vs onnxruntime-node (CPU reference backend)', () => {
  for (const name of FLOAT_FIXTURES) {
    it(`${name}: same outputs within 1e-4 relative on random inputs`, async () => {
      const bytes = fixture(name);
      const r = importOnnx(bytes, `${name}.onnx`);
      const N = 3;
      const shape = [N, ...r.inputShape];
      for (const [seed, lo, hi] of [[1, -1, 1], [2, 0, 1]] as const) {
        const x = randomInput(N * prod(r.inputShape), seed, lo, hi);
        const want = await runOrt(bytes, x, shape);
        const be = createCpuBackend();
        const got = await runOurs(be, r.graph, r.host, x, shape);
        expect(be.liveTensors()).toBe(0);
        expect(got.length).toBe(want.length);
        expect(relError(got, want), `${name} seed ${seed}`).toBeLessThan(1e-4);
      }
      // ... and the fused graph computes the same (BN folded, activations and adds fused).
      const f = fuse(r.graph, r.host);
      const x = randomInput(N * prod(r.inputShape), 3);
      expect(relError(await runOurs(createCpuBackend(), f.graph, f.host, x, shape), await runOrt(bytes, x, shape))).toBeLessThan(1e-4);
    });
  }
});

describe('imported graph structure', () => {
  it('QuantStub after the input, DeQuantStub before the output, shapes and classes', () => {
    const r = importOnnx(fixture('residual'), 'residual.onnx');
    const g = r.graph;
    expect(g.name).toBe('residual');
    expect(r.opset).toBe(11);
    expect(r.inputShape).toEqual([3, 16, 16]);
    expect(g.numClasses).toBe(7);
    expect(g.nodes[0]).toMatchObject({ id: 'input', op: 'input', shape: [3, 16, 16] });
    expect(g.nodes[1]).toMatchObject({ op: 'quant_stub', inputs: ['input'] });
    const out = g.nodes.find((n) => n.id === g.output)!;
    expect(out.op).toBe('dequant_stub');
    expect(out.shape).toEqual([7]);
    // The exporter's module path is the namespace; Pad + AveragePool became one pool with padding 0.
    const bn = g.nodes.find((n) => n.op === 'batchnorm2d')!;
    expect(bn.params.running_mean).toBeDefined();
    expect(g.params.find((p) => p.name === bn.params.running_var)!.kind).toBe('buffer');
    const ops = g.nodes.map((n) => n.op);
    expect(ops).toContain('avgpool2d');
    expect(ops).toContain('concat');
    expect(ops).not.toContain('identity');
    // Every node reads only earlier nodes, and every parameter is declared with the right size.
    for (const p of g.params) expect(r.host[p.name].length).toBe(prod(p.shape));
  });

  it('handmade: float_data initializers, Constant Clip bounds, MatMul+Add bias, Dropout/Identity removed, auto_pad SAME_UPPER', () => {
    const r = importOnnx(fixture('handmade'), 'handmade.onnx');
    const ops = r.graph.nodes.map((n) => n.op);
    expect(ops).toEqual(['input', 'quant_stub', 'conv2d', 'relu6', 'conv2d', 'relu', 'avgpool2d', 'concat', 'flatten', 'linear', 'relu', 'linear', 'dequant_stub']);
    const conv = r.graph.nodes.find((n) => n.id === 'conv_same')!;
    expect(conv.attrs.conv).toMatchObject({ padH: 1, padW: 1, strideH: 1 });
    expect(r.graph.nodes.find((n) => n.id === 'matmul')!.params.bias).toBeDefined();
  });

  it('MobileNetV2: fusion folds every BN and fuses every ReLU6 and residual Add', () => {
    const r = importOnnx(fixture('mobilenetv2'), 'mobilenetv2.onnx');
    const g = r.graph;
    const count = (op: string) => g.nodes.filter((n) => n.op === op).length;
    const convs = count('conv2d'), bns = count('batchnorm2d'), relu6 = count('relu6'), adds = count('add');
    expect(convs).toBe(52);
    expect(bns).toBe(52);
    expect(relu6).toBe(35);
    expect(adds).toBe(10);
    const f = fuse(g, r.host);
    const fops = f.graph.nodes.map((n) => n.op);
    expect(fops.filter((o) => o === 'batchnorm2d' || o === 'relu6' || o === 'add' || o === 'relu')).toEqual([]);
    const fconvs = f.graph.nodes.filter((n) => n.op === 'conv2d');
    expect(fconvs.length).toBe(52);
    expect(fconvs.filter((n) => n.attrs.act === 'relu6').length).toBe(35);
    expect(fconvs.filter((n) => n.attrs.addInput).length).toBe(10);
    const groups = f.steps.flatMap((s) => s.fused);
    expect(groups.filter((x) => x.pattern === 'conv2d+batchnorm2d').length).toBe(52);
    expect(groups.filter((x) => x.pattern === 'conv2d+add').length).toBe(10);
    expect(groups.filter((x) => x.pattern === 'conv2d+relu6').length).toBe(35);
    const report = fusionReport(f.graph);
    expect(report.unfused).toEqual([]);
    expect(report.float).toEqual([]);
    // prepare(): sites as for a zoo model; the classifier keeps an int32 output.
    const plan = prepare(f.graph, qconfigTemplate('default_calibration'));
    expect(plan.weights.length).toBe(53);
    expect(plan.int32Outputs.length).toBe(1);
  });

  it('normalization: default pixel/255, the file metadata, or the options', () => {
    expect(importOnnx(fixture('mlp'), 'mlp.onnx').normalization).toBe('pixel/255');
    const m = tinyModel({ ...tinyValid(), metadata: { input_scale: '1', input_mean: '0.5,0.25', input_std: '2,4' } });
    const r = importOnnx(m, 'meta.onnx');
    expect(r.normalizationSource).toBe('file');
    const norm = r.normalization as { mean: number[]; std: number[] };
    expect(norm.mean.map((v) => v * 255)).toEqual([0.5, 0.25].map((v) => expect.closeTo(v, 9)));
    expect(norm.std.map((v) => v * 255)).toEqual([2, 4].map((v) => expect.closeTo(v, 9)));
    const o = importOnnx(m, 'meta.onnx', { preprocessing: { scale: 1 / 255 } });
    expect(o.normalization).toBe('pixel/255');
    expect(o.normalizationSource).toBe('options');
    expect(normalizationFrom({ scale: 1 / 255, mean: [0.5], std: [0.5] })).toEqual({ mean: [0.5], std: [0.5] });
  });

  it('a symbolic input needs the input shape, which then works', () => {
    const m = tinyModel({ ...tinyValid(), input: ['N', 2, 'H', 'W'] });
    expect(() => importOnnx(m, 'dyn.onnx')).toThrow(/dynamic dimensions \[N,2,H,W\]/);
    expect(importOnnx(m, 'dyn.onnx', { inputShape: [2, 5, 5] }).graph.nodes.find((n) => n.op === 'conv2d')!.shape).toEqual([4, 5, 5]);
  });
});

describe('errors name the node, the op and the reason', () => {
  const expectError = (m: TinyModel | Uint8Array, re: RegExp, node?: string, op?: string) => {
    const bytes = m instanceof Uint8Array ? m : tinyModel(m);
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
    if (node !== undefined) expect(e.node).toBe(node);
    if (op !== undefined) expect(e.op).toBe(op);
  };
  const v = tinyValid();
  const withNode = (i: number, patch: object): TinyModel => ({ ...v, nodes: v.nodes.map((n, k) => (k === i ? { ...n, ...patch } : n)) });

  it('unsupported op', () => expectError(withNode(1, { opType: 'LpNormalization' }), /operator LpNormalization is not supported/, 'relu', 'LpNormalization'));
  it('custom domain', () => expectError(withNode(1, { domain: 'com.microsoft' }), /domain "com.microsoft"/, 'relu', 'Relu'));
  it('asymmetric padding', () => expectError(withNode(0, { attribute: [ints('pads', [0, 0, 1, 1])] }), /asymmetric padding/, 'conv', 'Conv'));
  it('auto_pad SAME_UPPER with an even kernel', () => expectError({
    ...v, nodes: [{ ...v.nodes[0], attribute: [str('auto_pad', 'SAME_UPPER')] }, ...v.nodes.slice(1)], inits: [floatInit('w', [4, 2, 2, 2]), ...v.inits!.slice(1)],
  }, /asymmetric padding/, 'conv', 'Conv'));
  it('Clip with min > max', () => expectError({
    ...v, nodes: v.nodes.map((n, k) => (k === 1 ? { opType: 'Clip', name: 'clip', input: ['c', 'lo', 'hi'], output: ['r'] } : n)),
    inits: [...v.inits!, { ...floatInit('lo', []), rawData: new Uint8Array(Float32Array.of(2).buffer) }, { ...floatInit('hi', []), rawData: new Uint8Array(Float32Array.of(1).buffer) }],
  }, /Clip min 2 is greater than its max 1/, 'clip', 'Clip'));
  it('Clip with a computed bound', () => expectError({
    ...v, nodes: v.nodes.map((n, k) => (k === 1 ? { opType: 'Clip', name: 'clip', input: ['c', 'c'], output: ['r'] } : n)),
  }, /min "c" must be a constant/, 'clip', 'Clip'));
  it('weights computed at run time', () => expectError({
    ...v, nodes: [{ ...v.nodes[0], input: ['input', 'input'] }, ...v.nodes.slice(1)],
  }, /weight "input" must be a constant/, 'conv', 'Conv'));
  it('external data', () => expectError({
    ...v, inits: [{ name: 'w', dims: [4, 2, 3, 3], dataType: 1, dataLocation: 1, externalData: [{ key: 'location', value: 'w.bin' }] }, ...v.inits!.slice(1)],
  }, /external data is not supported/, 'conv', 'Conv'));
  it('float16 weights', () => expectError({
    ...v, inits: [{ name: 'w', dims: [4, 2, 3, 3], dataType: 10, rawData: new Uint8Array(72 * 2) }, ...v.inits!.slice(1)],
  }, /FLOAT16; only float32/, 'conv', 'Conv'));
  it('raw_data of the wrong size', () => expectError({
    ...v, inits: [{ name: 'w', dims: [4, 2, 3, 3], dataType: 1, rawData: new Uint8Array(10) }, ...v.inits!.slice(1)],
  }, /raw_data has 10 bytes/, 'conv', 'Conv'));
  it('broadcasting Add', () => expectError({
    ...v, nodes: [...v.nodes.slice(0, 3), { opType: 'Add', name: 'add', input: ['r', 'p'], output: ['q'] },
      { opType: 'GlobalAveragePool', name: 'gap2', input: ['q'], output: ['p2'] }, { ...v.nodes[3], input: ['p2'] }, v.nodes[4]],
  }, /Add of \[4,6,6\] and \[4,1,1\].*broadcasting is not supported/, 'add', 'Add'));
  it('Add of a constant that does not broadcast to the value', () => expectError({
    ...v, nodes: [...v.nodes.slice(0, 2), { opType: 'Add', name: 'add', input: ['r', 'k'], output: ['r2'] }, { ...v.nodes[2], input: ['r2'] }, ...v.nodes.slice(3)],
    inits: [...v.inits!, floatInit('k', [3, 1, 1])],
  }, /added constant \[3,1,1\] does not broadcast to the per-sample shape \[4,6,6\]/, 'add', 'Add'));
  it('Reshape that fixes the batch', () => expectError({
    ...v, nodes: [...v.nodes.slice(0, 3), { opType: 'Reshape', name: 'reshape', input: ['p', 'shape'], output: ['f'] }, v.nodes[4]],
    inits: [...v.inits!, int64Init('shape', [1, 4])],
  }, /does not keep the batch dimension/, 'reshape', 'Reshape'));
  it('Reshape with a shape computed at run time', () => expectError({
    ...v, nodes: [...v.nodes.slice(0, 3), { opType: 'Reshape', name: 'reshape', input: ['p', 'c'], output: ['f'] }, v.nodes[4]],
  }, /shape "c" must be a constant/, 'reshape', 'Reshape'));
  it('Flatten on axis 2', () => expectError(withNode(3, { attribute: [int('axis', 2)] }), /Flatten with axis 2/, 'flat', 'Flatten'));
  it('AveragePool after a Pad, with pads of its own and count_include_pad=0', () => expectError({
    ...v, nodes: [...v.nodes.slice(0, 2),
      { opType: 'Pad', name: 'pad', input: ['r', 'pp'], output: ['rp'] },
      { opType: 'AveragePool', name: 'avg', input: ['rp'], output: ['a'], attribute: [ints('kernel_shape', [3, 3]), ints('pads', [1, 1, 1, 1])] },
      { ...v.nodes[2], input: ['a'] }, ...v.nodes.slice(3)],
    inits: [...v.inits!, int64Init('pp', [0, 0, 1, 1, 0, 0, 1, 1])],
  }, /count_include_pad=0/, 'avg', 'AveragePool'));
  it('Div by a computed value', () => expectError({
    ...v, nodes: [...v.nodes.slice(0, 2), { opType: 'Div', name: 'div', input: ['r', 'r'], output: ['d'] }, { ...v.nodes[2], input: ['d'] }, ...v.nodes.slice(3)],
  }, /Div is supported only as a computed value divided by a scalar constant/, 'div', 'Div'));
  it('Mul by a non-scalar constant', () => expectError({
    ...v, nodes: [...v.nodes.slice(0, 2), { opType: 'Mul', name: 'mul', input: ['r', 'k'], output: ['d'] }, { ...v.nodes[2], input: ['d'] }, ...v.nodes.slice(3)],
    inits: [...v.inits!, floatInit('k', [4, 1, 1])],
  }, /Mul by a constant of shape \[4,1,1\] is not supported/, 'mul', 'Mul'));
  it('ReduceMean over the channels', () => expectError({
    ...v, nodes: [...v.nodes.slice(0, 2), { opType: 'ReduceMean', name: 'rm', input: ['r'], output: ['m'], attribute: [ints('axes', [1]), int('keepdims', 1)] },
      { ...v.nodes[2], input: ['m'] }, ...v.nodes.slice(3)],
  }, /ReduceMean over axes \[1\] is not supported; only over H and W/, 'rm', 'ReduceMean'));
  it('BatchNormalization in training mode', () => expectError({
    ...v, nodes: [v.nodes[0], { opType: 'BatchNormalization', name: 'bn', input: ['c', 's', 'b', 'm', 'vv'], output: ['r'], attribute: [int('training_mode', 1)] }, ...v.nodes.slice(2)],
    inits: [...v.inits!, floatInit('s', [4]), floatInit('b', [4]), floatInit('m', [4]), floatInit('vv', [4], 1)], opset: 15,
  }, /training_mode=1/, 'bn', 'BatchNormalization'));
  it('Gemm with transA', () => expectError(withNode(4, { attribute: [int('transA', 1)] }), /transA=1/, 'fc', 'Gemm'));
  it('opset out of range', () => {
    expectError({ ...v, opset: 8 }, /opset 8 is not supported \(supported: 9 to 17\)/);
    expectError({ ...v, opset: 18 }, /opset 18 is not supported/);
  });
  it('two inputs, no output, undefined values', () => {
    expectError({ ...v, extraInputs: ['second'] }, /2 inputs; exactly one image input/);
    expectError({ ...v, outputs: [] }, /0 outputs/);
    expectError(withNode(1, { input: ['nothing'] }), /input "nothing" is not a graph input/, 'relu', 'Relu');
  });
  it('non-image input', () => expectError({ ...v, input: ['N', 72] }, /NCHW image input/));
  it('a cycle', () => expectError({
    ...v, nodes: [{ ...v.nodes[0], input: ['input', 'w'] }, { ...v.nodes[1], input: ['y'] }, ...v.nodes.slice(2)],
  }, /cycle/));
  it('outputs of any shape, several of them; the same value twice or a constant is refused', () => {
    // a feature map as the one output keeps its shape (no longer refused as "not logits")
    const fm = importOnnx(tinyModel({ ...v, nodes: v.nodes.slice(0, 2), output: 'r' }), 'fm.onnx').graph;
    expect(fm.outputs).toBeUndefined();
    expect(fm.nodes.find((n) => n.id === fm.output)!.shape).toEqual(fm.nodes.find((n) => n.id === 'relu')!.shape);
    // two outputs: the feature map and the logits, one DeQuantStub each, named after the outputs, in the file's order
    const two = importOnnx(tinyModel({ ...v, outputs: ['r', 'y'] }), 'two.onnx').graph;
    expect(two.outputs).toEqual(['dequant_r', 'dequant_y']);
    expect(two.output).toBe('dequant_r');
    expect(two.nodes.find((n) => n.id === 'dequant_r')!.inputs).toEqual(['relu']);
    expectError({ ...v, outputs: ['y', 'y'] }, /two graph outputs have the same name/);
    expectError({ ...v, outputs: ['y', 'w'] }, /output "w" is a constant/);
  });
  it('unknown auto_pad, bad attribute types', () => {
    expectError(withNode(0, { attribute: [str('auto_pad', 'WEIRD')] }), /auto_pad "WEIRD"/, 'conv', 'Conv');
    expectError(withNode(0, { attribute: [flt('group', 1)] }), /attribute group must be an int/, 'conv', 'Conv');
  });
  it('not an ONNX file at all', () => {
    expectError(new TextEncoder().encode('this is not a protobuf, just some text\n'), /not a valid ONNX model|no graph/);
    expectError(new Uint8Array(0), /no graph/);
  });
});
