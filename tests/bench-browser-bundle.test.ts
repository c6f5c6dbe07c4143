/**
 * The browser bench's page bundles for the browser (npm run bench -- --browser): our engine, the training step and
 * TF.js's webgpu backend with its gradients, with nothing of Node in it and one copy of tfjs-core (two copies would
 * register the peer's kernels in a registry the model does not use).
 */
import { describe, expect, it } from 'vitest';
import { bundlePage } from '../bench/browser.ts';

describe('browser bench bundle', () => {
  it('holds the engine, the trainer and TF.js webgpu, and no Node module', async () => {
    const { js, inputs } = await bundlePage();
    expect(js.length).toBeGreaterThan(100_000);
    expect(inputs.filter((i) => i.startsWith('node:') || /(^|\/)node_modules\/(esbuild|playwright)/.test(i))).toEqual([]);
    expect(inputs.filter((i) => i.endsWith('@tensorflow/tfjs-core/dist/index.js'))).toHaveLength(1);
    for (const part of ['src/engine/webgpu/webgpu-backend.ts', 'src/train/trainer.ts', 'bench/cases/train.ts', 'tfjs-backend-webgpu/dist/index.js',
      'tfjs-core/dist/register_all_gradients.js']) expect(inputs.some((i) => i.endsWith(part)), part).toBe(true);
    expect(inputs.some((i) => i.endsWith('.wgsl'))).toBe(true);
  });
});
