/**
 * Opsets 9 and 10 (PyTorch's exports of the FPN neck and the UNet at opset_version 9 / 10: scripts/fixtures_dense.py):
 * Upsample-9 and Resize-10 (scales input; asymmetric coordinates, nearest rounding down), Slice-1 (attributes, in the
 * folded sizes subgraph) and Slice-10, MaxPool-8 / MaxPool-10.
 *  - (the import matches onnxruntime-node within 1e-4 relative on the CPU reference and WebGPU, unfused and fused:
 *    FLOAT_FIXTURES, onnx-import*.test.ts);
 *  - its ops equal the opset-13 import's; nearest resizes keep opset 13's modes (asymmetric / floor), the bilinear one
 *    is asymmetric (ONNX before 11 has no half_pixel: the exporter's output differs from PyTorch's, onnxruntime agrees);
 *  - refusals: Upsample at opset 10, nearest downsampling, opset 8.
 */
import { describe, expect, it } from 'vitest';
import { importOnnx, OnnxImportError } from '../src/io/onnx/import.ts';
import { fixture, floatInit, str, tinyModel, type TinyModel } from './helpers/onnx.ts';

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
  it('Upsample at opset 10 is not an operator there', () => refuses(upsample('Upsample', 10, [1, 1, 2, 2]), /Upsample is not an operator of opset 10/));
  it('nearest downsampling', () => refuses(upsample('Resize', 10, [1, 1, 0.5, 0.5]), /nearest downsampling .* before opset 11 is not supported/));
  it('an unknown mode', () => refuses(upsample('Upsample', 9, [1, 1, 2, 2], 'cubic'), /mode "cubic" is not supported/));
  it('opset 8 is below the supported range', () => refuses({ ...upsample('Upsample', 9, [1, 1, 2, 2]), opset: 8 }, /opset 8 is not supported \(supported: 9 to 17\)/));
});
