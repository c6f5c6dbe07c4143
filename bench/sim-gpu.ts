/**
 * Times the fixed-point simulator's int8 conv stack of cnn-small (block1 1->24 3x3 p1, block2 24->48 3x3 s2 p1,
 * block3 48->48 3x3 p1, fused relu, 'horizon' requant to int8) at batch 64:
 *  - CPU reference kernels (src/sim/int/conv2d.ts: conv2dInt),
 *  - CPU fast kernels (src/sim/fast-conv.ts conv2dAccFast + requantizeHorizon, what src/sim/run.ts uses),
 *  - GPU, device-resident chain (src/sim/gpu/kernels.ts: upload the batch once, 3 dispatches, one read back),
 *  - GPU, typed arrays per layer (createGpuIntKernels().conv2dInt: upload + dispatch + read back per layer),
 * and checks that every path gives the same integers. Best of REPS (the machine is shared).
 *   node --import tsx --import ./scripts/wgsl-hooks.mjs bench/sim-gpu.ts [batch] [reps]
 */
import { acquireNodeDevice } from '../src/engine/webgpu/node-gpu.ts';
import { GpuContext } from '../src/engine/webgpu/gpu-context.ts';
import { conv2dInt, type Conv2dGeometry } from '../src/sim/int/conv2d.ts';
import { conv2dAccFast } from '../src/sim/fast-conv.ts';
import { requantizeHorizon, requantSpecFromScales, type IntArray, type OutputSpec, type RequantSpec } from '../src/sim/int/requant.ts';
import { readInt, releaseInt, uploadInt } from '../src/sim/gpu/bits.ts';
import { conv2d, createGpuIntKernels, prepareDense, releaseDense } from '../src/sim/gpu/kernels.ts';

const N = Number(process.argv[2] ?? 64);
const REPS = Number(process.argv[3] ?? 3);

let seed = 12345;
const rand = (): number => {
  seed = (Math.imul(seed, 1103515245) + 12345) >>> 0;
  return seed / 4294967296;
};

interface Layer { name: string; w: Int8Array; wShape: [number, number, number, number]; bias: Int32Array; geom: Conv2dGeometry; spec: RequantSpec; out: OutputSpec }
const mk = (name: string, O: number, I: number, stride: number): Layer => ({
  name,
  w: Int8Array.from({ length: O * I * 9 }, () => Math.floor(rand() * 255) - 127),
  wShape: [O, I, 3, 3],
  bias: Int32Array.from({ length: O }, () => Math.floor((rand() - 0.5) * 4000)),
  geom: { stride, padding: 1, dilation: 1, groups: 1 },
  spec: requantSpecFromScales('horizon', 1, [1], 1), // calibrated below
  out: { dtype: 'int8', zeroPoint: 0, clampMin: 0 },
});
const layers = [mk('block1 1->24 28x28', 24, 1, 1), mk('block2 24->48 s2', 48, 24, 2), mk('block3 48->48 14x14', 48, 48, 1)];
const x0 = Int8Array.from({ length: N * 28 * 28 }, () => Math.floor(rand() * 256) - 128);
const xShape0: [number, number, number, number] = [N, 1, 28, 28];

// Calibration on the first 4 images: per-channel real scales that map the accumulator's standard deviation to 40,
// so that the int8 outputs (fused relu) are spread like a real model's.
{
  let x: IntArray = x0.subarray(0, 4 * 28 * 28);
  let shape: readonly number[] = [4, 1, 28, 28];
  for (const l of layers) {
    const s = l.geom.stride as number;
    const r = conv2dAccFast(x, shape, 0, l.w, l.wShape, l.bias, { stride: [s, s], padding: [1, 1], dilation: [1, 1], groups: 1 });
    let sq = 0;
    for (let i = 0; i < r.acc.length; i++) sq += r.acc[i] * r.acc[i];
    const std = Math.sqrt(sq / r.acc.length) || 1;
    l.spec = requantSpecFromScales('horizon', 1, Array.from({ length: l.wShape[0] }, () => (40 / std) * (0.8 + 0.4 * rand())), 1);
    x = requantizeHorizon(r.acc, (l.spec as { multiplier: Int32Array }).multiplier, (l.spec as { shift: Int32Array }).shift, l.out, { channels: r.shape[1], inner: r.shape[2] * r.shape[3] });
    shape = r.shape;
  }
}

async function best(f: () => Promise<unknown> | unknown): Promise<number> {
  await f(); // warm-up (pipeline compile, JIT)
  let b = Infinity;
  for (let i = 0; i < REPS; i++) {
    const t0 = performance.now();
    await f();
    b = Math.min(b, performance.now() - t0);
  }
  return b;
}

function cpuRef(): IntArray {
  let x: IntArray = x0;
  let shape = xShape0;
  for (const l of layers) {
    const r = conv2dInt({ x: x as Int8Array, xShape: shape, xZeroPoint: 0, w: l.w, wShape: l.wShape, bias: l.bias }, l.geom, l.spec, l.out);
    x = r.data;
    shape = r.shape;
  }
  return x;
}

function cpuFast(): IntArray {
  let x: IntArray = x0;
  let shape: readonly number[] = xShape0;
  for (const l of layers) {
    const g = { stride: [l.geom.stride, l.geom.stride] as [number, number], padding: [1, 1] as [number, number], dilation: [1, 1] as [number, number], groups: 1 };
    const r = conv2dAccFast(x, shape, 0, l.w, l.wShape, l.bias, g);
    if (l.spec.mode !== 'horizon') throw new Error('horizon spec expected');
    x = requantizeHorizon(r.acc, l.spec.multiplier, l.spec.shift, l.out, { channels: r.shape[1], inner: r.shape[2] * r.shape[3] });
    shape = r.shape;
  }
  return x;
}

const d = await acquireNodeDevice((process.env.QS_GPU as 'auto' | 'gles' | 'vulkan' | undefined) ?? 'auto');
const ctx = new GpuContext(d.device);
const k = createGpuIntKernels(ctx);
const prepared = layers.map((l) => prepareDense(ctx, 'conv2d', l.w, l.wShape, l.bias, l.spec, l.out));

async function gpuChain(): Promise<IntArray> {
  let x = uploadInt(ctx, x0, xShape0);
  for (let i = 0; i < layers.length; i++) {
    const y = conv2d(ctx, x, 0, prepared[i], layers[i].geom);
    releaseInt(ctx, x);
    x = y;
  }
  const out = await readInt(ctx, x);
  releaseInt(ctx, x);
  return out;
}

async function gpuPerLayer(): Promise<IntArray> {
  let x: IntArray = x0;
  let shape = xShape0;
  for (const l of layers) {
    const r = await k.conv2dInt({ x: x as Int8Array, xShape: shape, xZeroPoint: 0, w: l.w, wShape: l.wShape, bias: l.bias }, l.geom, l.spec, l.out);
    x = r.data;
    shape = r.shape;
  }
  return x;
}

const macs = layers.reduce((s, l, i) => {
  const hw = i === 0 ? 28 * 28 : 14 * 14;
  return s + N * l.wShape[0] * hw * l.wShape[1] * 9;
}, 0);
console.log(`adapter: ${d.adapterName}; batch ${N}; ${(macs / 1e6).toFixed(0)} M int8 MACs; best of ${REPS}`);
const ref = cpuRef();
const outs = { fast: cpuFast(), chain: await gpuChain(), perLayer: await gpuPerLayer() };
for (const [name, o] of Object.entries(outs)) {
  const same = o.length === ref.length && o.every((v, i) => v === ref[i]);
  if (!same) throw new Error(`${name} differs from the CPU reference`);
}
let nonzero = 0;
for (let i = 0; i < ref.length; i++) if (ref[i] !== 0) nonzero++;
console.log(`outputs bit-identical on all paths (${ref.length} int8 values, ${(100 * nonzero / ref.length).toFixed(0)} % non-zero)`);
const rows: Array<[string, number]> = [
  ['CPU reference (conv2dInt)', await best(cpuRef)],
  ['CPU fast (conv2dAccFast + requant)', await best(cpuFast)],
  ['GPU device-resident chain', await best(gpuChain)],
  ['GPU typed arrays per layer', await best(gpuPerLayer)],
];
for (const [name, ms] of rows) console.log(`${name.padEnd(36)} ${ms.toFixed(1).padStart(8)} ms  ${(macs / ms / 1e6).toFixed(2).padStart(7)} GMAC/s`);
for (const p of prepared) releaseDense(ctx, p);
ctx.dispose();
d.device.destroy();
