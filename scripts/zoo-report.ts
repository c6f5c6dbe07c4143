/**
 * The torchvision zoo report: per model (3x32x32, opset 13, exported by scripts/make-onnx-fixtures.py --zoo into a
 * cache folder), whether it imports or the importer's exact refusal, and whether it matches onnxruntime-node within
 * 1e-4 relative on the CPU reference (and WebGPU with --webgpu), before and after fusion. Prints a markdown table
 * (docs/zoo.md holds the last one measured).
 * Usage: node --import tsx --import ./scripts/wgsl-hooks.mjs scripts/zoo-report.ts [--webgpu] [--batch N] [--size S] [NAME ...]
 * (--size 224: the models at 3x224x224, exported on first use; the CPU reference takes minutes there.)
 */
import { readFileSync } from 'node:fs';
import type { Backend } from '../src/engine/backend.ts';
import { createCpuBackend } from '../src/engine/reference/cpu-backend.ts';
import { checkZooModel, ensureZoo, unsupportedOps, zooFile, ZOO_MODELS, type ZooResult } from './zoo-models.ts';

const args = process.argv.slice(2);
const webgpu = args.includes('--webgpu');
const opt = (k: string, d: number) => (args.includes(k) ? Number(args[args.indexOf(k) + 1]) : d);
const batch = opt('--batch', 2), size = opt('--size', 32);
const names = args.filter((a, i) => !a.startsWith('--') && args[i - 1] !== '--batch' && args[i - 1] !== '--size');
const models = names.length ? names : [...ZOO_MODELS];

const t0 = performance.now();
const dir = ensureZoo(models, size);
console.error(`models in ${dir} (${((performance.now() - t0) / 1000).toFixed(1)} s to export what was missing)`);

const backends: Backend[] = [createCpuBackend()];
let destroy = () => {};
if (webgpu) {
  const { acquireNodeDevice } = await import('../src/engine/webgpu/node-gpu.ts');
  const { WebGpuBackend } = await import('../src/engine/webgpu/webgpu-backend.ts');
  const d = await acquireNodeDevice('auto');
  const gpu = new WebGpuBackend(d.device, d.adapterName, d.gpu);
  backends.push(gpu);
  destroy = () => gpu.dispose();
}

const fmt = (v: number) => (v < 1e-4 ? `${v.toExponential(1)} ✓` : `${v.toExponential(1)} ✗`);
const rows: string[] = [];
const results: ZooResult[] = [];
for (const name of models) {
  const bytes = new Uint8Array(readFileSync(zooFile(dir, name, size)));
  const r = await checkZooModel(name, bytes, backends, batch);
  results.push(r);
  const missing = unsupportedOps(bytes);
  if (r.refusal) {
    // the message as thrown, less its closing list of every supported op
    const shown = r.refusal.replace(/ \(supported: [^)]*\)$/, ' (supported: …)').replace(/\|/g, '\\|');
    rows.push(`| ${name} | refused | ${shown} | ${missing.join(', ') || '(all ops registered)'} | | |`);
  } else {
    const cols = backends.map((b) => (r.rel[b.kind] ? `${fmt(r.rel[b.kind].unfused)} / ${fmt(r.rel[b.kind].fused)}` : ''));
    rows.push(`| ${name} | imported (${r.nodes} nodes) | | | ${cols.join(' | ')} |${backends.length < 2 ? ' |' : ''}`);
  }
  console.error(`${name}: ${r.refusal ? 'refused' : 'imported'} (${r.seconds.toFixed(1)} s)`);
}
destroy();

console.log(`| model | import | refusal (as thrown) | ONNX ops no registry entry reads (Add/Sub/Mul/Div of constants fold at import) | CPU reference vs onnxruntime (unfused / fused) | WebGPU vs onnxruntime (unfused / fused) |`);
console.log('|---|---|---|---|---|---|');
for (const r of rows) console.log(r);
const imported = results.filter((r) => !r.refusal).length;
console.log(`\n${imported} of ${results.length} import; 3x${size}x${size}, batch ${batch}, random inputs in [-1, 1); relative error = max |ours − onnxruntime| / max |onnxruntime|; ` +
  `${((performance.now() - t0) / 1000).toFixed(0)} s in all.`);
