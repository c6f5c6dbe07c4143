// Top-1 accuracy of a calibrated model's ONNX QDQ export (DIR/model.qdq.onnx, written by `compile`) on all 10 000
// Fashion-MNIST test images, in onnxruntime-node with graph optimizations off (Q/DQ executed in float, the format's
// meaning: the fake-quant model; tests/onnx-qdq.test.ts checks the agreement). Native and fast where the studio's
// own evaluation on a loaded software adapter takes most of an hour; used by scripts/ptq-targets.sh.
// Usage: node scripts/qdq-accuracy.mjs DIR [IDX_FOLDER]   (normalization from DIR/report.json's calib section)
// Merges {"qdq_accuracy": {"acc1", "test_images", "file"}} into DIR/report.json and prints the figure.
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import ort from 'onnxruntime-node';
import { DEFAULT_IDX, pixelMap, readTestSet } from './fashion-test-set.mjs';

const [dir, idx = DEFAULT_IDX] = process.argv.slice(2);
if (!dir) throw new Error('usage: node scripts/qdq-accuracy.mjs DIR [IDX_FOLDER]');
const { images, labels, n, h, w } = readTestSet(idx);
const reportFile = join(dir, 'report.json');
const report = JSON.parse(readFileSync(reportFile, 'utf8'));
const px = pixelMap(report);
const file = join(dir, 'model.qdq.onnx');
const s = await ort.InferenceSession.create(readFileSync(file), { executionProviders: ['cpu'], graphOptimizationLevel: 'disabled' });
let correct = 0;
const batch = 500;
for (let i0 = 0; i0 < n; i0 += batch) {
  const b = Math.min(batch, n - i0);
  const x = new Float32Array(b * h * w);
  for (let i = 0; i < x.length; i++) x[i] = px(images.data[i0 * h * w + i]);
  const out = (await s.run({ [s.inputNames[0]]: new ort.Tensor('float32', x, [b, 1, h, w]) }))[s.outputNames[0]].data;
  const k = out.length / b;
  for (let j = 0; j < b; j++) {
    let best = 0;
    for (let c = 1; c < k; c++) if (out[j * k + c] > out[j * k + best]) best = c;
    if (best === labels[i0 + j]) correct++;
  }
}
await s.release();
const acc1 = (100 * correct) / n;
report.qdq_accuracy = { acc1, test_images: n, file };
writeFileSync(reportFile, JSON.stringify(report, null, 2) + '\n');
console.log(`QDQ export (onnxruntime, optimizations off): Acc@1 ${acc1.toFixed(2)} on ${n} test images (${file})`);
