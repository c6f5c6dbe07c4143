// How close calibrations of one model are to its float model on all 10 000 Fashion-MNIST test images: per QDQ export
// (DIR/model.qdq.onnx, written by `compile`) run by onnxruntime (optimizations off, as scripts/qdq-accuracy.mjs), the
// mean softmax KL divergence from the float ONNX model's outputs (automatic calibration's `kl` criterion, measured
// on test images instead of training images), the top-1 agreement with the float model, and the accuracy.
// Usage: node scripts/qdq-fidelity.mjs FLOAT.onnx DIR [DIR...]   (normalization from the first DIR's report.json)
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import ort from 'onnxruntime-node';
import { DEFAULT_IDX, pixelMap, readTestSet } from './fashion-test-set.mjs';

const [floatFile, ...dirs] = process.argv.slice(2);
if (!floatFile || !dirs.length) throw new Error('usage: node scripts/qdq-fidelity.mjs FLOAT.onnx DIR [DIR...]');
const idx = DEFAULT_IDX;
const { images, labels, n, h, w } = readTestSet(idx);
const px = pixelMap(JSON.parse(readFileSync(join(dirs[0], 'report.json'), 'utf8')));

async function logits(file) {
  const s = await ort.InferenceSession.create(readFileSync(file), { executionProviders: ['cpu'], graphOptimizationLevel: 'disabled' });
  const rows = [];
  for (let i0 = 0; i0 < n; i0 += 500) {
    const m = Math.min(500, n - i0);
    const x = new Float32Array(m * h * w);
    for (let i = 0; i < x.length; i++) x[i] = px(images.data[i0 * h * w + i]);
    rows.push((await s.run({ [s.inputNames[0]]: new ort.Tensor('float32', x, [m, 1, h, w]) }))[s.outputNames[0]].data);
  }
  await s.release();
  const all = new Float32Array(rows.reduce((t, r) => t + r.length, 0));
  let o = 0;
  for (const r of rows) { all.set(r, o); o += r.length; }
  return all;
}
const logSoftmax = (a, i, k) => {
  let m = -Infinity;
  for (let c = 0; c < k; c++) m = Math.max(m, a[i * k + c]);
  let s = 0;
  for (let c = 0; c < k; c++) s += Math.exp(a[i * k + c] - m);
  return Array.from({ length: k }, (_, c) => a[i * k + c] - m - Math.log(s));
};
const argmax = (a, i, k) => { let b = 0; for (let c = 1; c < k; c++) if (a[i * k + c] > a[i * k + b]) b = c; return b; };
const f = await logits(floatFile);
const k = f.length / n;
let fAcc = 0;
for (let i = 0; i < n; i++) fAcc += argmax(f, i, k) === labels[i] ? 1 : 0;
console.log(`float ${floatFile}: ${(100 * fAcc / n).toFixed(2)} % on ${n} test images`);
for (const d of dirs) {
  const q = await logits(join(d, 'model.qdq.onnx'));
  let kl = 0, agree = 0, acc = 0;
  for (let i = 0; i < n; i++) {
    const lf = logSoftmax(f, i, k), lq = logSoftmax(q, i, k);
    for (let c = 0; c < k; c++) kl += Math.exp(lf[c]) * (lf[c] - lq[c]);
    const t = argmax(q, i, k);
    agree += t === argmax(f, i, k) ? 1 : 0;
    acc += t === labels[i] ? 1 : 0;
  }
  console.log(`${d}: softmax KL to float ${(kl / n).toExponential(3)}, top-1 agreement ${(100 * agree / n).toFixed(2)} %, accuracy ${(100 * acc / n).toFixed(2)} %`);
}
