/**
 * Is a zoo model's float gradient right, and how sharp is its loss? (docs/zoo.md, MnasNet's QAT accuracy.) One
 * fine-tuned zoo model (scripts/zoo-models.ts), fused; on one batch of 16 training images: the loss, the gradient norm
 * |g| of the engine's backward, and the directional finite difference (L(θ + εĝ) − L(θ − εĝ)) / 2ε along ĝ = g / |g|
 * (→ |g| as ε → 0 when the backward is right), over all parameters and over the parameter with the largest gradient.
 * With --sgd LR: then 4 float SGD steps of 16 (momentum 0.9, the flow's QAT recipe without quantization) and the
 * float top-1 on 200 test images before and after.
 * Usage: node --import tsx --import ./scripts/wgsl-hooks.mjs scripts/zoo-grad-check.ts NAME [--sgd LR]
 */
import { readFileSync } from 'node:fs';
import { createCpuBackend } from '../src/engine/reference/cpu-backend.ts';
import { firstN, randomSubset } from '../src/data/dataset.ts';
import { normalizeImages } from '../src/data/loader.ts';
import { fuse } from '../src/graph/passes/fuse.ts';
import { importOnnx } from '../src/io/onnx/import.ts';
import { ParamStore, type HostParams } from '../src/nn/params.ts';
import { Tape } from '../src/engine/autograd.ts';
import { runGraph } from '../src/nn/executor.ts';
import { softmaxCrossEntropyFn } from '../src/engine/fns/loss.ts';
import { evaluate } from '../src/train/evaluate.ts';
import { train } from '../src/train/trainer.ts';
import { ensureZooFinetuned, zooFinetunedFile } from './zoo-models.ts';
import { fashionAsCifar } from './zoo-quant.ts';

const args = process.argv.slice(2);
const name = args.find((a, i) => !a.startsWith('--') && args[i - 1] !== '--sgd') ?? 'mnasnet0_5';
const r = importOnnx(new Uint8Array(readFileSync(zooFinetunedFile(ensureZooFinetuned([name], 100), name))), `${name}.onnx`);
const data = await fashionAsCifar(64, 200);
const be = createCpuBackend();
const f = fuse(r.graph, r.host);
const b = firstN(data.train, 16);
const x = normalizeImages(b, r.normalization), labels = Float32Array.from(b.labels!);

async function lossAt(host: HostParams, grads: boolean): Promise<{ l: number; g: Record<string, Float32Array> }> {
  const store = new ParamStore(be, f.graph, host);
  const tape = new Tape(be, grads, grads);
  const g: Record<string, Float32Array> = {};
  try {
    const { output } = runGraph(tape, f.graph, store, tape.input(x, [16, ...r.inputShape]));
    const loss = tape.apply(softmaxCrossEntropyFn, [output, tape.input(labels, [16])], null);
    const l = (await be.read(loss.value))[0];
    if (grads) {
      const seed = be.upload(new Float32Array([1]), [1]);
      tape.backward(loss, seed);
      be.release(seed);
      for (const [k, v] of store.vars) if (v.grad) g[k] = await be.read(v.grad);
    }
    return { l, g };
  } finally {
    tape.dispose();
    store.dispose();
  }
}

const { l, g } = await lossAt(f.host, true);
const norms = Object.entries(g).map(([k, v]) => [k, Math.sqrt(v.reduce((a, e) => a + e * e, 0))] as const).sort((p, q) => q[1] - p[1]);
console.log(`${name}: loss ${l.toFixed(3)} on 16 training images, |g| ${Math.hypot(...norms.map((e) => e[1])).toFixed(2)}`);
for (const group of [null, norms[0][0]]) {
  const keys = group ? [group] : Object.keys(g);
  const gn = Math.hypot(...keys.map((k) => norms.find((e) => e[0] === k)![1]));
  const fd: string[] = [];
  for (const eps of [1e-3, 1e-4, 1e-5]) {
    const moved = (sgn: number): HostParams => Object.fromEntries(Object.entries(f.host).map(([k, v]) => [k, keys.includes(k) && g[k] ? Float32Array.from(v, (e, i) => e + (sgn * eps * g[k][i]) / gn) : v]));
    fd.push(`${(((await lossAt(moved(1), false)).l - (await lossAt(moved(-1), false)).l) / (2 * eps)).toFixed(3)} (ε ${eps})`);
  }
  console.log(`  ${group ?? 'all parameters'}: |g| ${gn.toFixed(3)}, finite differences ${fd.join(', ')}`);
}
if (args.includes('--sgd')) {
  const lr = Number(args[args.indexOf('--sgd') + 1]);
  const store = new ParamStore(be, f.graph, f.host);
  const before = (await evaluate(be, f.graph, store, data.test, { normalize: r.normalization, batchSize: 64 })).acc1;
  const res = await train(be, f.graph, store, randomSubset(data.train, 64, 2), null, {
    epochs: 1, batchSize: 16, seed: 0, schedule: 'constant', normalize: r.normalization, evalEachEpoch: false, optimizer: { name: 'sgd', lr, momentum: 0.9 },
  }, {});
  const after = (await evaluate(be, f.graph, store, data.test, { normalize: r.normalization, batchSize: 64 })).acc1;
  console.log(`  4 float SGD steps of 16 at lr ${lr}: mean loss ${res.epochs[0].loss.toFixed(3)}, top-1 ${before} -> ${after} % on 200 test images`);
  store.dispose();
}
be.dispose();
