/**
 * The operator registry (src/ops): every op's parts are consistent with the graphs the studio makes (zoo models and
 * imported ONNX fixtures, before and after fusion), the ONNX import table comes from it without overlaps, the
 * fusion report and prepare read it (concat is quantized; an op limited to some marches is refused by name), and a
 * kernel's uniforms come from one declaration.
 */
import { describe, expect, it } from 'vitest';
import { GraphBuilder } from '../src/graph/builder.ts';
import type { Graph } from '../src/graph/ir.ts';
import { fusionReport } from '../src/graph/passes/check.ts';
import { fuse } from '../src/graph/passes/fuse.ts';
import { importOnnx, SUPPORTED_OPS } from '../src/io/onnx/index.ts';
import { buildModel, MODEL_NAMES } from '../src/models/zoo.ts';
import { initHostParams } from '../src/nn/params.ts';
import { OPS, OP_TYPES, onnxImporters, opDef } from '../src/ops/registry.ts';
import type { OpDef } from '../src/ops/types.ts';
import { prepare, PrepareError } from '../src/quant/prepare.ts';
import { qconfigTemplate } from '../src/quant/qconfig.ts';
import { uniforms } from '../src/engine/webgpu/uniforms.ts';
import { fixture } from './helpers/onnx.ts';

/** Every node's shape equals its op's inferShape of its inputs' shapes. */
function expectShapesInferred(g: Graph): void {
  const shapes = new Map(g.nodes.map((n) => [n.id, n.shape]));
  for (const n of g.nodes) {
    const paramShape = (role: string) => g.params.find((p) => p.name === n.params[role])!.shape;
    const inferred = opDef(n.op).inferShape(n, n.inputs.map((i) => shapes.get(i)!), paramShape);
    expect({ node: n.id, shape: inferred }).toEqual({ node: n.id, shape: n.shape });
  }
}

describe('operator registry', () => {
  it('each entry is registered under its own type and has a viewer label', () => {
    for (const t of OP_TYPES) {
      const d: OpDef = OPS[t];
      expect(d.type).toBe(t);
      expect(d.view.label.length).toBeGreaterThan(0);
    }
    expect(() => opDef('no_such_op')).toThrow(/unknown operator "no_such_op"/);
  });

  it('inferShape reproduces every node shape of the zoo models, before and after fusion', () => {
    for (const name of MODEL_NAMES) {
      const g = buildModel(name);
      expectShapesInferred(g);
      expectShapesInferred(fuse(g, initHostParams(g, 1)).graph);
    }
  });

  it('inferShape reproduces every node shape of the imported ONNX fixtures, before and after fusion', () => {
    for (const name of ['fashion_cnn', 'mobilenetv2', 'residual', 'mlp', 'shuffle_split_11', 'shuffle_split_17', 'shuffle_split_static', 'se_sigmoid', 'se_hardsigmoid', 'resize_ops_13', 'fpn_single', 'unet']) {
      const r = importOnnx(fixture(name), `${name}.onnx`);
      expectShapesInferred(r.graph);
      expectShapesInferred(fuse(r.graph, r.host).graph);
    }
  });

  it('the ONNX import table is the union of the ops\' onnx parts, each ONNX op read once', () => {
    const table = onnxImporters();
    expect([...table.keys()].sort()).toEqual([...SUPPORTED_OPS].sort());
    const fromDefs = OP_TYPES.flatMap((t) => Object.keys(opDef(t).onnx));
    expect(new Set(fromDefs).size).toBe(fromDefs.length);
    for (const k of ['Conv', 'BatchNormalization', 'Relu', 'Clip', 'Add', 'Gemm', 'MatMul', 'Concat', 'Constant']) expect(table.has(k)).toBe(true);
  });

  it('the fusion report counts a concat of integer values as quantized (it was listed as float-only)', () => {
    const b = new GraphBuilder('cat', [2, 8, 8], 10);
    const q = b.quantStub('input');
    const c1 = b.conv('c1', q, 4, 3, { padding: 1 });
    const c2 = b.conv('c2', q, 4, 1);
    const cat = b.concat('cat', [b.relu('r1', c1), b.relu('r2', c2)]);
    const g = b.build(b.dequantStub(b.globalAvgPool('gap', cat)));
    const { graph: fg } = fuse(g, initHostParams(g, 2));
    expect(fusionReport(fg).float).toEqual([]);
    // and prepare gives it its own activation site, as the converter expects
    expect(prepare(fg, qconfigTemplate('default_calibration')).acts.map((a) => a.node)).toContain('cat');
  });

  it('prepare refuses an op whose integer implementation is limited to other marches, naming op and march', () => {
    const b = new GraphBuilder('r6', [2, 4, 4], 10);
    const g = b.build(b.dequantStub(b.relu6('act', b.conv('c', b.quantStub('input'), 2, 1))));
    const def: OpDef = OPS.relu6;
    const saved = def.int;
    if (!('lower' in saved)) throw new Error('relu6 has an integer implementation');
    try {
      def.int = { ...saved, marches: ['bayes'] };
      expect(() => prepare(g, qconfigTemplate('default_calibration', { march: 'bernoulli' })))
        .toThrow(new PrepareError('ReLU6 has no integer implementation for march bernoulli (node act; it has one for bayes)'));
      expect(prepare(g, qconfigTemplate('default_calibration', { march: 'bayes' })).acts.map((a) => a.node)).toContain('act');
    } finally {
      def.int = saved;
    }
  });

  it('uniforms: one declaration gives the WGSL struct and the packer in the same field order', () => {
    const P = uniforms('Params', { total: 'u32', lo: 'i32', scale: 'f32' });
    expect(P.wgsl).toBe('struct Params { total: u32, lo: i32, scale: f32 }');
    expect(P.pack({ scale: 0.5, total: 7, lo: -3 })).toEqual([['u32', 7], ['i32', -3], ['f32', 0.5]]);
    expect(() => P.pack({ total: 1, lo: Number.NaN, scale: 1 })).toThrow(/Params\.lo: NaN is not a finite number/);
  });
});
