/**
 * `npm run bench [-- --quick] [-- --only=train,conv,matmul,qat,sim] [-- --filter=TEXT]`
 *
 * Our WebGPU engine against TensorFlow.js 4.22 (webgpu backend) doing the identical work, in one
 * process, on one GPUDevice (so the same adapter by construction; both descriptions are printed and
 * compared). Writes bench/results.json (rows + metadata) and prints a table. Method: bench/README.md.
 */
import { execFileSync } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import os from 'node:os';
import { fileURLToPath } from 'node:url';
import { acquireNodeDevice, type NodeGpuPreference } from '../src/engine/webgpu/node-gpu.ts';
import { WebGpuBackend } from '../src/engine/webgpu/webgpu-backend.ts';
import { benchOptions, formatTable, type Row, type RowDetail } from './harness.ts';
import { createTfjsPeer, describeAdapterInfo } from './tfjs-peer.ts';
import { trainCase } from './cases/train.ts';
import { convCases } from './cases/conv.ts';
import { matmulCases } from './cases/matmul.ts';
import { qatCase } from './cases/qat.ts';
import { SIM_TORCHVISION, simCases } from './cases/sim.ts';
import { runIntModelGpu } from '../src/sim/run-gpu.ts';

const args = process.argv.slice(2);
const flag = (name: string) => args.includes(`--${name}`);
const opt = (name: string) => args.find((a) => a.startsWith(`--${name}=`))?.slice(name.length + 3);
if (flag('help')) {
  console.log('usage: npm run bench -- [--quick] [--only=train,conv,matmul,qat,sim] [--filter=TEXT] [--sim=cpu] [--out=FILE]\n' +
    '       npm run bench -- --browser [--quick] [--filter=TEXT] [--out=FILE]   (the training rows in Chromium)');
  process.exit(0);
}
if (flag('browser')) {
  // The training rows in a Chromium page on its own adapter (bench/browser.ts); nothing of the Node engine starts.
  await (await import('./browser.ts')).runBrowserBench(args);
  process.exit(0);
}
const quick = flag('quick');
const only = new Set((opt('only') ?? 'train,conv,matmul,qat,sim').split(',').map((s) => s.trim()));
const filterText = opt('filter');
const filter = filterText ? (label: string) => label.includes(filterText) : undefined;
const outPath = opt('out') ?? fileURLToPath(new URL('./results.json', import.meta.url));
const BATCH = 64;
const MODELS = ['cnn-small', 'mobilenetv2-mini'];
/** The sim rows add torchvision's MobileNetV3-Small and EfficientNet-B0 (3x32x32 exports, bench/cases/sim.ts). */
const SIM_MODELS = [...MODELS, ...SIM_TORCHVISION];
const MATMUL_SIZES = [256, 512, 768, 1024];
const o = benchOptions(quick);

const t0 = performance.now();
const log = (s: string) => console.log(`[${((performance.now() - t0) / 1000).toFixed(0).padStart(4)} s] ${s}`);

const d = await acquireNodeDevice((process.env.QS_GPU as NodeGpuPreference | undefined) ?? 'auto');
const be = new WebGpuBackend(d.device, d.adapterName, d.gpu);
// The TF.js peer is only needed by the train / conv / matmul rows (sim compares with onnxruntime-web, qat with ours).
const needsTfjs = ['train', 'conv', 'matmul'].some((k) => only.has(k));
const peer = needsTfjs ? await createTfjsPeer(d.gpu, d.device) : null;
const oursAdapter = describeAdapterInfo((d.device as GPUDevice & { adapterInfo?: GPUAdapterInfo }).adapterInfo);
console.log(`ours: ${be.adapter}`);
if (peer) {
  console.log(`peer: ${peer.name} on ${peer.adapter}`);
  if (peer.backend.device !== d.device || oursAdapter !== peer.adapter) {
    console.error(`ADAPTER MISMATCH: ours "${oursAdapter}" vs peer "${peer.adapter}"`);
    process.exit(2);
  }
}
console.log(`options: ${JSON.stringify(o)}; load average ${os.loadavg().map((x) => x.toFixed(2)).join(' ')}`);

const rows: Row[] = [];
const details: RowDetail[] = [];
const notes: string[] = [];

if (only.has('train')) {
  for (const m of MODELS) {
    if (filter && !filter(m)) continue;
    log(`training ${m}, batch ${BATCH}`);
    const r = await trainCase(be, peer!, m, BATCH, o, log);
    rows.push(r.row);
    details.push(r.detail);
    log(`  ${r.row.case}: ours ${r.row.ours.toFixed(1)}, peer ${r.row.peer_value.toFixed(1)} images/s`);
  }
}
if (only.has('qat')) {
  log('QAT vs float training, cnn-small');
  const r = await qatCase(be, BATCH, o, log);
  if (typeof r === 'string') notes.push(`qat: ${r}; row left out`);
  else {
    rows.push(r.row);
    details.push(r.detail);
    log(`  ${r.row.case}: QAT ${r.row.ours.toFixed(1)}, float ${r.row.peer_value.toFixed(1)} images/s (${r.row.ratio.toFixed(2)})`);
  }
}
if (only.has('conv')) {
  log(`conv2d forward+backward, batch ${BATCH}`);
  const r = await convCases(be, peer!, MODELS, BATCH, o, log, filter);
  rows.push(...r.rows);
  details.push(...r.details);
}
if (only.has('sim')) {
  log(`fixed-point simulator, batch ${BATCH}: CPU vs onnxruntime-web (wasm, 1 thread), WGSL vs CPU on ${be.adapter}`);
  // --sim=cpu: only the CPU simulator vs onnxruntime-web rows (the WGSL rows take minutes on a software adapter)
  const gpu = opt('sim') === 'cpu' ? null : { ctx: be.ctx, run: (im: Parameters<typeof runIntModelGpu>[0], x: Float32Array, n: number) => runIntModelGpu(im, x, n, be.ctx) };
  const r = await simCases(SIM_MODELS.filter((m) => !filter || filter(m)), BATCH, o, log, gpu, notes);
  rows.push(...r.rows);
  details.push(...r.details);
}
if (only.has('matmul')) {
  log('matmul');
  const r = await matmulCases(be, peer!, MATMUL_SIZES, o, log);
  rows.push(...r.rows);
  details.push(...r.details);
}

const seconds = (performance.now() - t0) / 1000;
let commit = '';
try { commit = execFileSync('git', ['rev-parse', 'HEAD'], { encoding: 'utf8' }).trim(); } catch { /* not a checkout */ }
const result = {
  date: new Date().toISOString(),
  adapter: be.adapter,
  peer_adapter: peer?.adapter ?? null,
  peer: peer?.name ?? null,
  node: process.version,
  platform: `${os.platform()} ${os.release()} ${os.arch()}, ${os.cpus().length} CPUs (${os.cpus()[0]?.model ?? '?'})`,
  commit,
  options: o,
  batch: BATCH,
  seconds,
  load_average_end: os.loadavg(),
  notes,
  rows,
  details,
};
writeFileSync(outPath, `${JSON.stringify(result, null, 2)}\n`);

console.log(`\nadapter: ${be.adapter}${peer ? `  (peer ${peer.name} on the same GPUDevice)` : ''}`);
console.log(`node ${process.version}, ${seconds.toFixed(0)} s, ${quick ? 'quick' : 'full'}; ratio > 1: ours faster\n`);
console.log(formatTable(rows));
for (const n of notes) console.log(`note: ${n}`);
console.log(`\nwrote ${outPath}`);
// Dawn's instance and TF.js's backend keep handles open; the results are written, so leave now.
process.exit(0);
