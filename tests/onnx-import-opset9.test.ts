/**
 * Opsets 9 and 10 (PyTorch's exports of the FPN neck and the UNet at opset_version 9 / 10: scripts/fixtures_dense.py):
 * Upsample-9 and Resize-10 (scales input; asymmetric coordinates, nearest rounding down), Slice-1 (attributes, in the
 * folded sizes subgraph) and Slice-10, MaxPool-8 / MaxPool-10.
 *  - (the import matches onnxruntime-node within 1e-4 relative on the CPU reference and WebGPU, unfused and fused:
 *    FLOAT_FIXTURES, onnx-import*.test.ts);
 *  - its ops equal the opset-13 import's; nearest resizes keep opset 13's modes (asymmetric / floor), the bilinear one
 *    is asymmetric (ONNX before 11 has no half_pixel: the exporter's output differs from PyTorch's, onnxruntime agrees);
 *  - Slice-1 / Slice-10, Pad-2, Clip-6, MaxPool-8, Softmax-1 and linear Upsample-9 / Resize-10 on a computed tensor
 *    match onnxruntime-node;
 *  - refusals: Upsample at opset 10, nearest downsampling, opset 8.
 */
import { describe, expect, it } from 'vitest';
import { importOnnx, OnnxImportError } from '../src/io/onnx/import.ts';
import { createCpuBackend } from '../src/engine/reference/cpu-backend.ts';
import { fixture, flt, floatInit, int, int64Init, ints, randomInput, relError, runOrt, runOurs, str, tinyModel, type TinyModel } from './helpers/onnx.ts';

const resizes = (name: string) =>
  importOnnx(fixture(name), `${name}.onnx`).graph.nodes.filter((n) => n.op.startsWith('resize')).map((n) => ({ op: n.op, ...n.attrs.resize }));

describe('opsets 9 and 10: PyTorch exports of the FPN neck and the UNet', () => {
  for (const model of ['fpn_single', 'unet']) {
    for (const opset of [9, 10]) {
      const name = `${model}_${opset}`;
      it(`${name} has the opset-13 import's ops and resize modes`, () => {
        const ops = (n: string) => importOnnx(fixture(n), `${n}.onnx`).graph.nodes.map((q) => q.op);
        expect(ops(name)).toEqual(ops(model));
        const old = resizes(name), now = resizes(model);
        expect(old.map((q) => q.op)).toEqual(now.map((q) => q.op));
        for (const [i, q] of old.entries()) {
          expect([q.outH, q.outW]).toEqual([now[i].outH, now[i].outW]);
          expect(q.coord).toBe('asymmetric');
          if (q.op === 'resize_nearest') expect([q.nearest, now[i].coord, now[i].nearest]).toEqual(['floor', 'asymmetric', 'floor']);
        }
      });
    }
  }
});

/**
 * The other pre-11 forms on computed tensors, at opset 9 and 10: Slice-1 (attributes) / Slice-10 (inputs) on channels, Pad-2
 * (pads attribute, folded into the Conv), Clip-6 (min / max attributes → relu6), MaxPool-8, Softmax-1 on the last axis
 * (its 2-D coercion equals it there), then Upsample-9 / Resize-10 linear x2.
 */
function preEleven(opset: number): TinyModel {
  const slice = opset < 10
    ? { opType: 'Slice', name: 'slice', input: ['input'], output: ['s'], attribute: [ints('axes', [1]), ints('starts', [1]), ints('ends', [3])] }
    : { opType: 'Slice', name: 'slice', input: ['input', 'st', 'en', 'ax'], output: ['s'] };
  return {
    input: ['N', 4, 6, 6], opset, output: 'y',
    nodes: [
      slice,
      { opType: 'Pad', name: 'pad', input: ['s'], output: ['p'], attribute: [ints('pads', [0, 0, 1, 1, 0, 0, 1, 1])] },
      { opType: 'Conv', name: 'conv', input: ['p', 'w', 'b'], output: ['c'] },
      { opType: 'Clip', name: 'clip', input: ['c'], output: ['r'], attribute: [flt('min', 0), flt('max', 6)] },
      { opType: 'MaxPool', name: 'pool', input: ['r'], output: ['m'], attribute: [ints('kernel_shape', [2, 2]), ints('strides', [2, 2])] },
      { opType: 'Softmax', name: 'sm', input: ['m'], output: ['sm'], attribute: [int('axis', 3)] },
      { opType: opset < 10 ? 'Upsample' : 'Resize', name: 'up', input: ['sm', 'sc'], output: ['y'], attribute: [str('mode', 'linear')] },
    ],
    inits: [
      { ...floatInit('w', [3, 2, 3, 3]), rawData: new Uint8Array(Float32Array.from({ length: 54 }, (_, i) => Math.sin(i) * 3).buffer) },
      floatInit('b', [3], 0.5),
      { ...floatInit('sc', [4]), rawData: new Uint8Array(Float32Array.from([1, 1, 2, 2]).buffer) },
      ...(opset < 10 ? [] : [int64Init('st', [1]), int64Init('en', [3]), int64Init('ax', [1])]),
    ],
  };
}

describe('the other pre-11 operator forms on a computed tensor', () => {
  for (const opset of [9, 10]) {
    it(`opset ${opset}: Slice, Pad, Clip, MaxPool, Softmax, linear upsampling match onnxruntime-node (CPU reference)`, async () => {
      const bytes = tinyModel(preEleven(opset));
      const r = importOnnx(bytes, 'pre11.onnx');
      expect(r.graph.nodes.map((q) => q.op)).toEqual(['input', 'quant_stub', 'slice', 'conv2d', 'relu6', 'maxpool2d', 'softmax', 'resize_linear', 'dequant_stub']);
      const shape = [2, 4, 6, 6];
      const x = randomInput(2 * 4 * 36, opset);
      const [want, got] = await Promise.all([runOrt(bytes, x, shape), runOurs(createCpuBackend(), r.graph, r.host, x, shape)]);
      expect(got.length).toBe(want.length);
      expect(relError(got, want)).toBeLessThan(1e-4);
    });
  }
});

/** Upsample / Resize(scales) of the input, at the given opset. */
function upsample(op: string, opset: number, scales: number[], mode = 'nearest'): TinyModel {
  return {
    input: ['N', 2, 4, 4], opset,
    nodes: [{ opType: op, name: 'up', input: ['input', 'sc'], output: ['out'], attribute: [str('mode', mode)] }],
    inits: [{ ...floatInit('sc', [4]), rawData: new Uint8Array(Float32Array.from(scales).buffer) }],
    output: 'out',
  };
}

describe('pre-11 resize refusals', () => {
  const refuses = (m: TinyModel, re: RegExp) => {
    const e = (() => { try { importOnnx(tinyModel(m), 'm.onnx'); } catch (err) { return err; } })();
    expect(e).toBeInstanceOf(OnnxImportError);
    expect((e as Error).message).toMatch(/m\.onnx/);
    expect((e as Error).message).toMatch(re);
  };
  it('Upsample at opset 10 (deprecated there)', () => refuses(upsample('Upsample', 10, [1, 1, 2, 2]), /Upsample is deprecated from opset 10 \(this file declares opset 10\)/));
  it('nearest downsampling', () => refuses(upsample('Resize', 10, [1, 1, 0.5, 0.5]), /nearest downsampling .* before opset 11 is not supported/));
  it('an unknown mode', () => refuses(upsample('Upsample', 9, [1, 1, 2, 2], 'cubic'), /mode "cubic" is not supported/));
  it('opset 8 is below the supported range', () => refuses({ ...upsample('Upsample', 9, [1, 1, 2, 2]), opset: 8 }, /opset 8 is not supported \(supported: 9 to 17\)/));
});
