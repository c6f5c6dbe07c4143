/**
 * Issue 4's export target: the ONNX QDQ file of DIR (written by `compile`) runs in onnxruntime, and its
 * top-1 agrees with the fixed-point simulator (DIR/model.qsbin) on the test images.
 * Usage: node --import tsx --import ./scripts/wgsl-hooks.mjs scripts/qdq-vs-sim.ts DIR [idx:DIR|fashion-mnist] [N]
 */
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import * as ort from 'onnxruntime-node';
import { decodeModelFile } from '../src/sim/model-file.ts';
import { runIntModel } from '../src/sim/run.ts';
import { loadStageData } from '../src/cli/data.ts';
import { iterateBatches } from '../src/data/loader.ts';
import { argmaxRows } from '../src/train/metrics.ts';

const [dir = 'runs/cnn-subset', data = 'idx:/usr/share/datasets/fashion-mnist', n] = process.argv.slice(2);
const model = decodeModelFile(new Uint8Array(await readFile(join(dir, 'model.qsbin'))), join(dir, 'model.qsbin'));
const session = await ort.InferenceSession.create(join(dir, 'model.qdq.onnx'));
const { test } = await loadStageData(data, null, n ? Number(n) : null);
let agree = 0, seen = 0, simTop1 = 0, ortTop1 = 0;
for (const b of iterateBatches(test, 256, 0, 0, { shuffle: false })) {
  const sim = runIntModel(model, b.x, b.n);
  const k = sim.outputShape[1];
  const feeds = { [session.inputNames[0]]: new ort.Tensor('float32', b.x, [...b.shape]) };
  const out = (await session.run(feeds))[session.outputNames[0]].data as Float32Array;
  const a = argmaxRows(sim.output, b.n, k), o = argmaxRows(out, b.n, k);
  for (let i = 0; i < b.n; i++) {
    if (a[i] === o[i]) agree++;
    if (a[i] === b.labels[i]) simTop1++;
    if (o[i] === b.labels[i]) ortTop1++;
  }
  seen += b.n;
}
console.log(`ONNX QDQ (onnxruntime-node ${ort.env.versions.common}) vs simulator on ${seen} test images: ` +
  `top-1 agreement ${(100 * agree / seen).toFixed(2)} %; accuracy onnxruntime ${(100 * ortTop1 / seen).toFixed(2)} %, simulator ${(100 * simTop1 / seen).toFixed(2)} %`);
