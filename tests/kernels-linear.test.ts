/**
 * WebGPU dense kernels (the strided, register-tiled GEMM and the row sum) against the CPU
 * reference, on sizes around and across the 64 x 64 x 16 tiles of the scalar kernel and the
 * 32 x 32 x 32 tiles of the vec4 entry points (mm_nt, mm_nn, mm_tn), for all three layouts.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Backend, BTensor, Shape } from '../src/engine/backend.ts';
import { CpuBackend } from '../src/engine/reference/cpu-backend.ts';
import type { WebGpuBackend } from '../src/engine/webgpu/webgpu-backend.ts';
import { destroyTestBackend, getTestBackend } from './helpers/gpu.ts';
import { expectCloseToScale as expectClose, onBackends, rand } from './helpers/compare.ts';
import { mulberry32 as rng } from './helpers/random.ts';

const both = async (f: Parameters<typeof onBackends>[1]) => onBackends([gpu, cpu], f) as Promise<[Float32Array, Float32Array]>;

let gpu: WebGpuBackend;
const cpu = new CpuBackend();
let live0 = 0;

beforeAll(async () => {
  gpu = await getTestBackend();
  live0 = gpu.liveTensors();
});
afterAll(destroyTestBackend);

// [N, K, O]
const sizes: [number, number, number][] = [
  [1, 1, 1],
  [3, 5, 7],
  [64, 48, 10],       // cnn-small head after global pooling
  [4, 2352, 10],      // flattened 48x7x7 features
  [65, 17, 129],      // one past the tile sizes
  [130, 100, 70],
  [7, 300, 3],
  // not multiples of any tile; K % 4 != 0: the scalar kernel for all three layouts
  [7, 13, 5],
  [65, 129, 33],
  // vec4 entry points: mm_nt needs K % 4 == 0, mm_nn K % 4 and O % 4, mm_tn O % 4 and K % 4
  [1, 4, 4],          // all three vec4, 1 row
  [3, 8, 4],
  [65, 36, 132],      // all three vec4, one past the 32 tile in N, inner N = 65 for mm_tn
  [97, 44, 40],       // all three vec4, partial tiles everywhere
  [33, 132, 7],       // mm_nt vec4, the backward passes on the scalar kernel (O = 7)
];

describe('linear kernels vs the CPU reference', () => {
  let seed = 11;
  for (const [N, K, O] of sizes) {
    it(`N=${N} K=${K} O=${O}`, async () => {
      const r = rng(seed++);
      const x = rand(N * K, r), w = rand(O * K, r), b = rand(O, r), dy = rand(N * O, r);
      const [yg, yc] = await both((be, up) => be.linear(up(x, [N, K]), up(w, [O, K]), up(b, [O])));
      expectClose(yg, yc, 'forward with bias');
      const [y0g, y0c] = await both((be, up) => be.linear(up(x, [N, K]), up(w, [O, K]), null));
      expectClose(y0g, y0c, 'forward without bias');
      const [dxg, dxc] = await both((be, up) => be.linearBackwardInput(up(dy, [N, O]), up(w, [O, K])));
      expectClose(dxg, dxc, 'backward input');
      const [dwg, dwc] = await both((be, up) => be.linearBackwardWeight(up(dy, [N, O]), up(x, [N, K])));
      expectClose(dwg, dwc, 'backward weight');
      const [dbg, dbc] = await both((be, up) => be.sumRows(up(dy, [N, O])));
      expectClose(dbg, dbc, 'sumRows');
      expect(gpu.liveTensors()).toBe(live0);
    });
  }

  it('sumRows over many rows and many columns', async () => {
    const r = rng(5);
    for (const [N, O] of [[1000, 3], [2, 3000]]) {
      const dy = rand(N * O, r);
      const [g, c] = await both((be, up) => be.sumRows(up(dy, [N, O])));
      expectClose(g, c, `sumRows [${N}, ${O}]`);
    }
    expect(gpu.liveTensors()).toBe(live0);
  });

  it('rejects mismatched shapes', () => {
    const x = gpu.upload(new Float32Array(6), [2, 3]);
    const w = gpu.upload(new Float32Array(8), [2, 4]);
    expect(() => gpu.linear(x, w, null)).toThrow(/does not match/);
    expect(() => gpu.linearBackwardInput(x, w)).toThrow(/does not match/);
    gpu.release(x);
    gpu.release(w);
    expect(gpu.liveTensors()).toBe(live0);
  });
});
