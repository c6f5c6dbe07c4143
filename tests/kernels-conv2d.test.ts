/**
 * WebGPU convolution kernels against the CPU reference: forward (with and without bias),
 * backward-input, backward-weight and channelSum on awkward shapes (odd channel counts, 1x1 and
 * non-square kernels, stride 2 on odd sizes, padding, dilation, groups, depthwise) and the exact
 * cnn-small layer shapes.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { conv2dOutShape, convParams, type Backend, type BTensor, type Conv2dParams, type Shape } from '../src/engine/backend.ts';
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

const prod = (s: Shape) => s.reduce((a, b) => a * b, 1);

interface Case {
  name: string;
  x: [number, number, number, number];
  o: number; kh: number; kw: number;
  p: Partial<Conv2dParams> & { stride?: number; padding?: number; dilation?: number };
}

const cases: Case[] = [
  { name: '1x1 kernel, odd channels 3->5', x: [2, 3, 7, 7], o: 5, kh: 1, kw: 1, p: {} },
  { name: '3x3 pad 1, 5->7, batch 3', x: [3, 5, 7, 7], o: 7, kh: 3, kw: 3, p: { padding: 1 } },
  { name: 'stride 2 odd input, pad 1', x: [1, 3, 9, 11], o: 8, kh: 3, kw: 3, p: { stride: 2, padding: 1 } },
  { name: 'stride 2 no pad, 4x4 kernel', x: [2, 4, 13, 13], o: 6, kh: 4, kw: 4, p: { stride: 2 } },
  { name: 'dilation 2 pad 2', x: [2, 5, 10, 9], o: 4, kh: 3, kw: 3, p: { dilation: 2, padding: 2 } },
  { name: 'non-square 1x3 kernel, pad (0,1)', x: [3, 7, 6, 10], o: 5, kh: 1, kw: 3, p: { padH: 0, padW: 1 } },
  { name: 'non-square 3x1 kernel, strides (1,2), pad 2', x: [1, 6, 9, 8], o: 9, kh: 3, kw: 1, p: { strideH: 1, strideW: 2, padding: 2 } },
  { name: 'groups 2', x: [2, 6, 8, 8], o: 10, kh: 3, kw: 3, p: { groups: 2, padding: 1 } },
  { name: 'groups 2 with 4 channels per group', x: [2, 8, 7, 7], o: 8, kh: 3, kw: 3, p: { groups: 2, padding: 1, stride: 2 } },
  { name: 'depthwise 3x3', x: [3, 7, 9, 9], o: 7, kh: 3, kw: 3, p: { groups: 7, padding: 1 } },
  { name: 'depthwise stride 2 odd', x: [2, 5, 7, 7], o: 5, kh: 3, kw: 3, p: { groups: 5, padding: 1, stride: 2 } },
  { name: 'depthwise multiplier 2 (Og 2)', x: [1, 3, 8, 8], o: 6, kh: 3, kw: 3, p: { groups: 3, padding: 1 } },
  { name: 'kernel larger than padded image rows', x: [1, 2, 3, 17], o: 3, kh: 5, kw: 3, p: { padH: 1, padW: 0 } },
  { name: 'big padding with stride 3 dilation (2,3)', x: [2, 3, 11, 12], o: 5, kh: 3, kw: 2, p: { stride: 3, padding: 3, dilationH: 2, dilationW: 3 } },
  { name: 'wide odd image (not a multiple of the workgroup)', x: [1, 4, 5, 131], o: 4, kh: 3, kw: 3, p: { padding: 1 } },
  { name: 'partial 8-channel tiles: 13->14, stride 2 odd', x: [2, 13, 9, 7], o: 14, kh: 3, kw: 3, p: { padding: 1, stride: 2 } },
  { name: 'partial 8-channel tiles per group: groups 2, 26->28', x: [1, 26, 6, 5], o: 28, kh: 2, kw: 3, p: { groups: 2, padH: 1 } },
  // depthwise sliding-window kernels (conv2d-depthwise.ts): stride 1/2, odd sizes, multiplier 2,
  // padding 0/1/2, row dilation, batch 1 and 3; column dilation and wide kernels take the generic path
  { name: 'dw s1 7x7 pad 1 batch 1', x: [1, 4, 7, 7], o: 4, kh: 3, kw: 3, p: { groups: 4, padding: 1 } },
  { name: 'dw s2 7x7 pad 1 batch 3', x: [3, 6, 7, 7], o: 6, kh: 3, kw: 3, p: { groups: 6, padding: 1, stride: 2 } },
  { name: 'dw s1 5x9 pad 0', x: [3, 3, 5, 9], o: 3, kh: 3, kw: 3, p: { groups: 3 } },
  { name: 'dw s2 5x9 pad 0', x: [1, 3, 5, 9], o: 3, kh: 3, kw: 3, p: { groups: 3, stride: 2 } },
  { name: 'dw s1 5x9 pad 2', x: [3, 5, 5, 9], o: 5, kh: 3, kw: 3, p: { groups: 5, padding: 2 } },
  { name: 'dw s2 9x5 pad 2', x: [1, 5, 9, 5], o: 5, kh: 3, kw: 3, p: { groups: 5, padding: 2, stride: 2 } },
  { name: 'dw multiplier 2 s1 5x9', x: [3, 3, 5, 9], o: 6, kh: 3, kw: 3, p: { groups: 3, padding: 1 } },
  { name: 'dw multiplier 2 s2 7x7', x: [1, 4, 7, 7], o: 8, kh: 3, kw: 3, p: { groups: 4, padding: 1, stride: 2 } },
  { name: 'dw row dilation 2 (fast path)', x: [3, 3, 9, 8], o: 3, kh: 3, kw: 3, p: { groups: 3, padding: 2, dilationH: 2, dilationW: 1 } },
  { name: 'dw dilation 2 (generic path)', x: [3, 3, 9, 8], o: 3, kh: 3, kw: 3, p: { groups: 3, padding: 2, dilation: 2 } },
  { name: 'dw stride 3 (generic path)', x: [1, 3, 11, 10], o: 3, kh: 3, kw: 3, p: { groups: 3, padding: 1, stride: 3 } },
  { name: 'dw 5x5 kernel (generic path)', x: [1, 3, 9, 9], o: 3, kh: 5, kw: 5, p: { groups: 3, padding: 2 } },
  { name: 'dw 4x4 kernel s2 pad 1', x: [3, 3, 10, 9], o: 3, kh: 4, kw: 4, p: { groups: 3, padding: 1, stride: 2 } },
  { name: 'dw 2x4 kernel s1 pad (1,2), row stride 2', x: [1, 3, 8, 11], o: 3, kh: 2, kw: 4, p: { groups: 3, padH: 1, padW: 2, strideH: 2, strideW: 1 } },
  { name: 'dw 1x2 kernel s2 pad (0,1)', x: [3, 2, 6, 7], o: 2, kh: 1, kw: 2, p: { groups: 2, padW: 1, padH: 0, stride: 2 } },
  { name: 'dw strides (1,2) with row dilation 2, 7x9', x: [2, 3, 7, 9], o: 3, kh: 3, kw: 3, p: { groups: 3, padding: 1, strideH: 1, strideW: 2, dilationH: 2, dilationW: 1 } },
  { name: 'dw strides (3,2), multiplier 2, 8x10', x: [2, 2, 8, 10], o: 4, kh: 3, kw: 3, p: { groups: 2, padding: 1, strideH: 3, strideW: 2 } },
  { name: 'dw 1 column image, s2', x: [2, 3, 5, 1], o: 3, kh: 3, kw: 3, p: { groups: 3, padding: 1, stride: 2 } },
  { name: 'dw b64-like 96ch 28x28 s2 (split weight gradient)', x: [3, 96, 28, 28], o: 96, kh: 3, kw: 3, p: { groups: 96, padding: 1, stride: 2 } },
  // cnn-small at batch 4
  { name: 'cnn-small conv1 1->24', x: [4, 1, 28, 28], o: 24, kh: 3, kw: 3, p: { padding: 1 } },
  { name: 'cnn-small conv2 24->48 s2', x: [4, 24, 28, 28], o: 48, kh: 3, kw: 3, p: { padding: 1, stride: 2 } },
  { name: 'cnn-small conv3 48->48', x: [4, 48, 14, 14], o: 48, kh: 3, kw: 3, p: { padding: 1 } },
  // MobileNetV2-mini style pointwise and depthwise
  { name: 'pointwise 1x1 16->40', x: [2, 16, 7, 7], o: 40, kh: 1, kw: 1, p: {} },
  { name: 'depthwise 3x3 s2 on 14x14, 32 channels', x: [2, 32, 14, 14], o: 32, kh: 3, kw: 3, p: { groups: 32, padding: 1, stride: 2 } },
];

describe('conv2d kernels vs the CPU reference', () => {
  let seed = 1;
  for (const c of cases) {
    it(c.name, async () => {
      const r = rng(seed++);
      const p = convParams(c.p);
      const wShape: Shape = [c.o, c.x[1] / p.groups, c.kh, c.kw];
      const yShape = conv2dOutShape(c.x, wShape, p);
      const x = rand(prod(c.x), r), w = rand(prod(wShape), r), b = rand(c.o, r), dy = rand(prod(yShape), r);

      const [yg, yc] = await both((be, up) => be.conv2d(up(x, c.x), up(w, wShape), up(b, [c.o]), p));
      expectClose(yg, yc, 'forward with bias');
      const [y0g, y0c] = await both((be, up) => be.conv2d(up(x, c.x), up(w, wShape), null, p));
      expectClose(y0g, y0c, 'forward without bias');
      const [dxg, dxc] = await both((be, up) => be.conv2dBackwardInput(up(dy, yShape), up(w, wShape), c.x, p));
      expectClose(dxg, dxc, 'backward input');
      const [dwg, dwc] = await both((be, up) => be.conv2dBackwardWeight(up(dy, yShape), up(x, c.x), wShape, p));
      expectClose(dwg, dwc, 'backward weight');
      const [dbg, dbc] = await both((be, up) => be.channelSum(up(dy, yShape)));
      expectClose(dbg, dbc, 'channelSum');
      expect(gpu.liveTensors()).toBe(live0);
    });
  }

  it('backward weight splits large batches into partial sums (batch 37, 1x1)', async () => {
    const r = rng(99);
    const xs: Shape = [37, 3, 5, 5], ws: Shape = [2, 3, 1, 1];
    const p = convParams({});
    const x = rand(prod(xs), r), dy = rand(37 * 2 * 25, r);
    const [g, c] = await both((be, up) => be.conv2dBackwardWeight(up(dy, [37, 2, 5, 5]), up(x, xs), ws, p));
    expectClose(g, c, 'backward weight, split');
    expect(gpu.liveTensors()).toBe(live0);
  });

  it('grids past 65535 workgroups fold into 2-D (4.4M invocations)', async () => {
    const r = rng(31);
    const xs: Shape = [1, 2, 2_200_000, 1], ws: Shape = [2, 1, 1, 1];
    const p = convParams({ groups: 2 });
    const x = rand(prod(xs), r), w = rand(2, r), dy = rand(prod(xs), r);
    const [yg, yc] = await both((be, up) => be.conv2d(up(x, xs), up(w, ws), null, p));
    expectClose(yg, yc, 'forward');
    const [dxg, dxc] = await both((be, up) => be.conv2dBackwardInput(up(dy, xs), up(w, ws), xs, p));
    expectClose(dxg, dxc, 'backward input');
    expect(gpu.liveTensors()).toBe(live0);
  });

  it('channelSum on [N, C] features, on many channels and on large planes', async () => {
    const r = rng(7);
    for (const s of [[5, 3], [3, 70_000], [2, 3, 45, 45], [1, 1, 1, 1]] as Shape[]) {
      const x = rand(prod(s), r);
      const [g, c] = await both((be, up) => be.channelSum(up(x, s)));
      expectClose(g, c, `channelSum [${s}]`);
    }
    expect(gpu.liveTensors()).toBe(live0);
  });

  it('rejects mismatched shapes', () => {
    const x = gpu.upload(new Float32Array(2 * 4 * 5 * 5), [2, 4, 5, 5]);
    const w = gpu.upload(new Float32Array(6 * 3 * 3 * 3), [6, 3, 3, 3]);
    expect(() => gpu.conv2d(x, w, null, convParams({}))).toThrow(/channels/);
    expect(() => gpu.conv2d(x, w, null, convParams({ groups: 3 }))).toThrow(/groups/);
    gpu.release(x);
    gpu.release(w);
    expect(gpu.liveTensors()).toBe(live0);
  });
});
