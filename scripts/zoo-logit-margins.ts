/**
 * Throwaway check kept for docs/zoo.md's claim that the random zoo models compute nearly one output for every input:
 * per model, top-1 accuracy, the logit range and the relative top-1 margin (top1 − top2) / |top1| over 100 test
 * images (p5 = p50: the same margin on every image). Optional first argument: Adam steps of a float fine-tune in our
 * engine first (0: none); FT=DIR reads DIR/NAME_ft.onnx instead of the random export.
 * Usage: node --import tsx scripts/zoo-logit-margins.ts 0 NAME ...
 */
import { readFileSync } from 'node:fs';
import { createCpuBackend } from '../src/engine/reference/cpu-backend.ts';
import { ensureZoo, zooFile, ZOO_MODELS } from './zoo-models.ts';
import { fashionAsCifar } from './zoo-quant.ts';
import { importOnnx } from '../src/io/onnx/import.ts';
import { ParamStore } from '../src/nn/params.ts';
import { evaluate } from '../src/train/evaluate.ts';
import { train } from '../src/train/trainer.ts';
const names = process.argv.slice(3);
const steps = Number(process.argv[2]);
const dir = ensureZoo(names);
const data = await fashionAsCifar(1024, 100);
const be = createCpuBackend();
for (const name of names) {
  const r = importOnnx(new Uint8Array(readFileSync(process.env.FT ? `${process.env.FT}/${name}_ft.onnx` : zooFile(dir, name))), name);
  const store = new ParamStore(be, r.graph, r.host);
  const t = performance.now();
  if (steps) await train(be, r.graph, store, data.train, null, { epochs: 1, batchSize: 16, seed: 0, schedule: 'constant', normalize: r.normalization, evalEachEpoch: false, optimizer: { name: 'adam', lr: Number(process.env.LR ?? 1e-3) } }, { onProgress: (p) => { if (p.step % 8 === 0) console.log(p.step, p.loss); if (p.step >= steps) throw new Error('stop'); } }).catch((e) => console.log(e.message));
  let mx = 0, mn = 0, margin: number[] = [];
  const ev = await evaluate(be, r.graph, store, data.test, { normalize: r.normalization, onLogits: (l, _y, n) => { for (let i = 0; i < n; i++) { const row = Array.from(l.subarray(i * 10, i * 10 + 10)).sort((a, b) => b - a); margin.push((row[0] - row[1]) / (Math.abs(row[0]) + 1e-9)); } for (const v of l) { mx = Math.max(mx, v); mn = Math.min(mn, v); } } });
  margin.sort((a, b) => a - b); console.log(margin.slice(0, 100).map(v => v.toFixed(3)).join(" "));
  console.log(name, r.normalization, 'acc', ev.acc1, 'logits', mn, mx, 'rel margin p5', margin[5], 'p50', margin[50], ((performance.now() - t) / 1000).toFixed(1), 's');
}
