import { readFileSync } from 'node:fs';
import type { Plugin } from 'vite';
import { defineConfig } from 'vitest/config';
import react from '@vitejs/plugin-react';

/** Imports shaders/*.wgsl (and the .py templates of src/io/torch) as strings at build time (the same text Node gets
 *  from scripts/wgsl-loader.mjs). */
function wgsl(): Plugin {
  return {
    name: 'wgsl-as-string',
    enforce: 'pre',
    load(id) {
      const file = id.split('?')[0];
      if (!file.endsWith('.wgsl') && !file.endsWith('.py')) return null;
      return `export default ${JSON.stringify(readFileSync(file, 'utf8'))};`;
    },
  };
}

export default defineConfig({
  plugins: [wgsl(), react()],
  worker: { format: 'es', plugins: () => [wgsl()] },
  build: { target: 'es2022', sourcemap: true },
  test: {
    include: ['tests/**/*.test.ts'],
    pool: 'forks',
    // vitest's default (CPUs - 1) runs the files one at a time on a 2-core machine, where most files (CPU reference
    // backend, simulator, onnxruntime, python) keep one core busy and the other mostly idle: two forks there. Two
    // everywhere, the setting the whole suite was run with (more forks on a larger machine would put several
    // llvmpipe, PyTorch and onnxruntime tests side by side untested).
    maxWorkers: 2,
    testTimeout: 120_000,
    hookTimeout: 120_000,
  },
});
