/**
 * ONNX import on the WebGPU engine (Dawn in Node): the imported fixtures, unfused and fused, compute
 * what onnxruntime-node computes within 1e-4 relative on random inputs.
 */
import { afterAll, describe, expect, it } from 'vitest';
import { fuse } from '../src/graph/passes/fuse.ts';
import { importOnnx } from '../src/io/onnx/import.ts';
import { destroyTestBackend, getTestBackend } from './helpers/gpu.ts';
import { FLOAT_FIXTURES, fixture, randomInput, relError, runOrt, runOurs } from './helpers/onnx.ts';

afterAll(destroyTestBackend);

const prod = (s: number[]) => s.reduce((a, b) => a * b, 1);

describe('ONNX fixtures vs onnxruntime-node (WebGPU engine)', () => {
  for (const name of FLOAT_FIXTURES) {
    it(`${name}: same outputs within 1e-4 relative`, async () => {
      const be = await getTestBackend();
      const live = be.liveTensors();
      const bytes = fixture(name);
      const r = importOnnx(bytes, `${name}.onnx`);
      const shape = [2, ...r.inputShape];
      const x = randomInput(prod(shape), 11, 0, 1);
      const want = await runOrt(bytes, x, shape);
      expect(relError(await runOurs(be, r.graph, r.host, x, shape), want), `${name} unfused`).toBeLessThan(1e-4);
      const f = fuse(r.graph, r.host);
      expect(relError(await runOurs(be, f.graph, f.host, x, shape), want), `${name} fused`).toBeLessThan(1e-4);
      expect(be.liveTensors()).toBe(live);
    });
  }
});
