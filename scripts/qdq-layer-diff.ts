/**
 * Where the QDQ export and the fixed-point simulator part (issue 10's QDQ target): one zoo model (fine-tuned,
 * scripts/zoo-models.ts), calibrated (default_calibration), converted and exported; the QDQ file is run in
 * onnxruntime-node (optimizations off, or --fused) with every activation site's DequantizeLinear as an extra output,
 * the simulator with every value dumped, and per layer (graph order) the share of equal integers and the largest
 * difference in the site's LSB are printed, end to end (each fed its own outputs), then the top-1 agreement.
 * Usage: node --import tsx --import ./scripts/wgsl-hooks.mjs scripts/qdq-layer-diff.ts NAME [--test N] [--calib N] [--march M]
 *   [--fused] [--isolated] [--all]   (--isolated: each layer fed onnxruntime's integers; --all: the equal layers too)
 *   [--finetune-steps N (100)] [--train N (--calib)] [--qat-steps N (0)] [--batch N (16)]: the model of another flow,
 *   e.g. tests/zoo-quant-flow.test.ts's: --finetune-steps 20 --train 32 --calib 16 --qat-steps 2 --batch 8 --test 50
 */
import { readFileSync } from 'node:fs';
import * as ort from 'onnxruntime-node';
import { createCpuBackend } from '../src/engine/reference/cpu-backend.ts';
import { firstN, randomSubset } from '../src/data/dataset.ts';
import { normalizeImages } from '../src/data/loader.ts';
import { fuse } from '../src/graph/passes/fuse.ts';
import { importOnnx } from '../src/io/onnx/import.ts';
import { exportQdqOnnx } from '../src/io/onnx/export-qdq.ts';
import { decodeModelProto, encodeModelProto } from '../src/io/onnx/proto.ts';
import { calibrate } from '../src/quant/calibrate.ts';
import { convertQuantizedModel } from '../src/quant/convert.ts';
import { qconfigTemplate } from '../src/quant/qconfig.ts';
import { execLayer, runIntModel, type IntTensor } from '../src/sim/run.ts';
import { argmaxRows } from '../src/nn/metrics.ts';
import { buildQuantized } from '../src/cli/stages/quant-common.ts';
import { train } from '../src/train/trainer.ts';
import { ensureZooFinetuned, zooFinetunedFile } from './zoo-models.ts';
import { fashionAsCifar } from './zoo-quant.ts';

const args = process.argv.slice(2);
const opt = (k: string, d: number) => (args.includes(k) ? Number(args[args.indexOf(k) + 1]) : d);
const VALUED = ['--test', '--calib', '--march', '--train', '--finetune-steps', '--qat-steps', '--batch'];
const name = args.find((a, i) => !a.startsWith('--') && !VALUED.includes(args[i - 1])) ?? 'regnet_x_400mf';
const march = args.includes('--march') ? args[args.indexOf('--march') + 1] as 'bernoulli' : undefined;
const testCount = opt('--test', 64), calibCount = opt('--calib', 64), batch = opt('--batch', 16);
const qatSteps = opt('--qat-steps', 0);
const fused = args.includes('--fused');

const dir = ensureZooFinetuned([name], opt('--finetune-steps', 100));
const r = importOnnx(new Uint8Array(readFileSync(zooFinetunedFile(dir, name))), `${name}.onnx`);
const data = await fashionAsCifar(opt('--train', calibCount), testCount);
const be = createCpuBackend();
const f = fuse(r.graph, r.host);
const calibQc = qconfigTemplate('default_calibration', march ? { march } : {});
let qm = buildQuantized(be, f.graph, f.host, calibQc);
await calibrate(qm, randomSubset(data.train, Math.min(calibCount, data.train.count), 1), { batchSize: batch, normalize: r.normalization });
if (qatSteps > 0) {
  // --qat-steps: then QAT on the calibrated parameters and scales, as scripts/zoo-quant.ts's quantFlow does
  const params = await qm.store.toHost(), sites = await qm.toHost();
  qm.store.dispose();
  qm.dispose();
  qm = buildQuantized(be, f.graph, params, qconfigTemplate('default_qat', { march: calibQc.march }), sites);
  qm.setState('QAT');
  await train(be, qm.plan.graph, qm.store, randomSubset(data.train, Math.min(qatSteps * batch, data.train.count), 2), null, {
    epochs: 1, batchSize: batch, seed: 0, schedule: 'constant', normalize: r.normalization, evalEachEpoch: false,
    optimizer: { name: 'sgd', lr: 1e-3, momentum: 0.9 },
  }, { hooks: qm.hooks });
}
qm.setState('VALIDATION');
const im = await convertQuantizedModel(qm);
const bytes = await exportQdqOnnx(qm);

// every site's DequantizeLinear output becomes a graph output (named <id>.dq by the export)
const m = decodeModelProto(bytes);
const g = m.graph!;
const siteOut = new Map<string, string>();
for (const n of g.node!) {
  if (n.opType !== 'DequantizeLinear') continue;
  const out = n.output![0];
  const id = out.replace(/\.dq(_\d+)?$/, '');
  if (im.values[id]) siteOut.set(id, out);
}
for (const [, out] of siteOut) g.output!.push({ name: out });
const test = firstN(data.test, testCount);
const x = normalizeImages(test, r.normalization);
const s = await ort.InferenceSession.create(encodeModelProto(m), { executionProviders: ['cpu'], intraOpNumThreads: 1, graphOptimizationLevel: fused ? 'all' : 'disabled' });
const ortOut = await s.run({ [s.inputNames[0]]: new ort.Tensor('float32', x, [testCount, ...r.inputShape]) });
const sim = runIntModel(im, x, testCount, { dump: true });

// --isolated: each layer fed onnxruntime's integers (where the input is a site; else the simulator's own)
const isolated = args.includes('--isolated');
const iso = new Map<string, IntTensor>();
const ortInt = (id: string): IntTensor => {
  const t = sim.dumps.get(id)!;
  const out = siteOut.get(id);
  if (!isolated) return t;
  if (!out || im.values[id].scales.length !== 1) return iso.get(id) ?? t; // not a site: the value computed from onnxruntime's
  const o = ortOut[out].data as Float32Array, sc = im.values[id].scales[0];
  const data = new (t.data.constructor as new (n: number) => IntTensor['data'])(o.length);
  for (let i = 0; i < o.length; i++) data[i] = Math.round(o[i] / sc);
  return { data, shape: t.shape };
};
console.log(`${name}: ${im.layers.length} integer layers, ${siteOut.size} QDQ sites compared, ${testCount} images, onnxruntime optimizations ${fused ? 'on' : 'off'}, ${isolated ? 'each layer fed onnxruntime\'s inputs' : 'end to end'}`);
for (const l of im.layers) {
  const out = siteOut.get(l.id);
  const info = im.values[l.id];
  if (l.op === 'dequantize') continue;
  const t = isolated && l.op !== 'quantize' ? execLayer(im, l, l.inputs.map(ortInt)) : sim.dumps.get(l.id);
  if (t) iso.set(l.id, t);
  if (!out || !t || info.scales.length !== 1) continue;
  const o = ortOut[out].data as Float32Array;
  const sc = info.scales[0];
  let eq = 0, max = 0, at = -1;
  for (let i = 0; i < o.length; i++) {
    const d = Math.abs(Math.round(o[i] / sc) - t.data[i]);
    if (d === 0) eq++;
    if (d > max) [max, at] = [d, i];
  }
  if (max > 0 || args.includes('--all')) {
    const ins = l.inputs.map((id) => `${id}(${im.values[id]?.scales.length === 1 ? im.values[id].scales[0].toExponential(3) : 'pc'})`).join(', ');
    console.log(`${l.op.padEnd(9)} ${l.id.padEnd(40)} equal ${(100 * eq / o.length).toFixed(3).padStart(7)} %  max ${max} LSB` +
      (max ? ` (at ${at}: ort ${Math.round(o[at] / sc)} sim ${t.data[at]})` : '') + `  scale ${sc.toExponential(3)} <- ${ins}`);
  }
}
const K = im.numClasses;
const a = argmaxRows(ortOut[s.outputNames[0]].data as Float32Array, testCount, K), b = argmaxRows(sim.output!, testCount, K);
let agree = 0;
for (let i = 0; i < testCount; i++) if (a[i] === b[i]) agree++;
console.log(`top-1 agreement ${(100 * agree / testCount).toFixed(1)} %`);
be.dispose();
