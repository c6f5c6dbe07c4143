/**
 * The 'webgpu' runners of the simulator's quantized_* kinds (src/sim/gpu/conformance.ts) on every PyTorch
 * conformance case of those kinds, through the registry: all pass bit-exactly, like the CPU runners.
 */
import { afterAll, describe, expect, it } from 'vitest';
import { fileURLToPath } from 'node:url';
import { formatFailure, runConformance } from '../src/conformance/run.ts';
import { setConformanceBackend } from '../src/conformance/gpu-lease.ts';
import { destroyTestBackend, getTestBackend } from './helpers/gpu.ts';

const CASES = fileURLToPath(new URL('./conformance/cases', import.meta.url));

afterAll(() => {
  setConformanceBackend(null);
  destroyTestBackend();
});

describe('quantized_* conformance cases on the webgpu backend (GPU integer kernels)', () => {
  for (const [kind, count] of [['quantized_conv2d', 20], ['quantized_linear', 12], ['quantized_add', 10], ['quantized_relu', 4]] as const) {
    it(kind, async () => {
      setConformanceBackend(await getTestBackend());
      const s = await runConformance(CASES, { backends: ['webgpu'], kinds: [kind] });
      expect(s.outcomes.flatMap((o) => formatFailure(o))).toEqual([]);
      expect(s.passed).toBe(count);
    });
  }
});
