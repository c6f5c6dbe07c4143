/**
 * Times the WebGPU conv kernels (forward, backward-input, backward-weight) on the cnn-small layer
 * shapes and two MobileNetV2-style layers at batch 64 on the Node adapter, in GFLOP/s
 * (2 * multiply-adds of the direct convolution).
 *   npx tsx --import ./scripts/wgsl-hooks.mjs bench/conv-kernels.ts [batch] [reps]
 */
import { conv2dOutShape, convParams, sizeOf, type Conv2dParams, type Shape } from '../src/engine/backend.ts';
import { acquireNodeDevice } from '../src/engine/webgpu/node-gpu.ts';
import { WebGpuBackend } from '../src/engine/webgpu/webgpu-backend.ts';

const N = Number(process.argv[2] ?? 64);
const REPS = Number(process.argv[3] ?? 5);
const layers: { name: string; x: Shape; w: Shape; p: Conv2dParams }[] = [
  { name: 'conv1 1->24 3x3', x: [N, 1, 28, 28], w: [24, 1, 3, 3], p: convParams({ padding: 1 }) },
  { name: 'conv2 24->48 3x3 s2', x: [N, 24, 28, 28], w: [48, 24, 3, 3], p: convParams({ padding: 1, stride: 2 }) },
  { name: 'conv3 48->48 3x3', x: [N, 48, 14, 14], w: [48, 48, 3, 3], p: convParams({ padding: 1 }) },
  { name: 'dw 32 3x3 14x14', x: [N, 32, 14, 14], w: [32, 1, 3, 3], p: convParams({ padding: 1, groups: 32 }) },
  { name: 'pw 32->64 1x1 14x14', x: [N, 32, 14, 14], w: [64, 32, 1, 1], p: convParams({}) },
];

const d = await acquireNodeDevice((process.env.QS_GPU as 'auto') ?? 'auto');
const be = new WebGpuBackend(d.device, d.adapterName, d.gpu);
console.log(`adapter: ${be.adapter}, batch ${N}`);
const rand = (n: number) => Float32Array.from({ length: n }, () => Math.random() * 2 - 1);
const totals = { fwd: 0, bwdIn: 0, bwdW: 0, flops: 0 };

for (const l of layers) {
  const y = conv2dOutShape(l.x, l.w, l.p);
  const x = be.upload(rand(sizeOf(l.x)), l.x), w = be.upload(rand(sizeOf(l.w)), l.w), dy = be.upload(rand(sizeOf(y)), y);
  const flops = 2 * sizeOf(y) * l.w[1] * l.w[2] * l.w[3];
  const time = async (f: () => void) => {
    f(); await be.sync(); // warm-up (pipeline compile)
    let best = Infinity; // best of REPS: the machine is shared, the minimum is the least noisy
    for (let i = 0; i < REPS; i++) {
      const t0 = performance.now();
      f();
      await be.sync();
      best = Math.min(best, performance.now() - t0);
    }
    return best;
  };
  const fwd = await time(() => be.release(be.conv2d(x, w, null, l.p)));
  const bin = await time(() => be.release(be.conv2dBackwardInput(dy, w, l.x, l.p)));
  const bw = await time(() => be.release(be.conv2dBackwardWeight(dy, x, l.w, l.p)));
  const g = (ms: number) => (flops / ms / 1e6).toFixed(2);
  console.log(`${l.name.padEnd(22)} ${(flops / 1e6).toFixed(0).padStart(6)} MFLOP  fwd ${fwd.toFixed(1)} ms ${g(fwd)} GFLOP/s | `
    + `bwd-in ${bin.toFixed(1)} ms ${g(bin)} | bwd-w ${bw.toFixed(1)} ms ${g(bw)}`);
  if (l.name.startsWith('conv')) {
    totals.fwd += fwd; totals.bwdIn += bin; totals.bwdW += bw; totals.flops += flops;
  }
  for (const t of [x, w, dy]) be.release(t);
}
const g = (ms: number) => (totals.flops / ms / 1e6).toFixed(2);
console.log(`cnn-small total: fwd ${totals.fwd.toFixed(0)} ms ${g(totals.fwd)} GFLOP/s | bwd-in ${totals.bwdIn.toFixed(0)} ms ${g(totals.bwdIn)}`
  + ` | bwd-w ${totals.bwdW.toFixed(0)} ms ${g(totals.bwdW)}`);
be.dispose();
