// Paired comparison of two calibrations of one model on all 10 000 Fashion-MNIST test images, by their QDQ exports
// (DIR/model.qdq.onnx, written by `compile`) in onnxruntime (optimizations off, as scripts/qdq-accuracy.mjs): the
// images only A gets right, those only B gets right, and the two-sided sign test (exact binomial) on them, to tell
// an accuracy difference from the noise of which images sit at a decision boundary.
// Usage: node scripts/qdq-paired.mjs DIR_A DIR_B [IDX_FOLDER]   (normalization from DIR_A/report.json's calib section)
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import ort from 'onnxruntime-node';
import { DEFAULT_IDX, pixelMap, readTestSet } from './fashion-test-set.mjs';

const [a, b, idx = DEFAULT_IDX] = process.argv.slice(2);
if (!a || !b) throw new Error('usage: node scripts/qdq-paired.mjs DIR_A DIR_B [IDX_FOLDER]');
const { images, labels, n, h, w } = readTestSet(idx);
const px = pixelMap(JSON.parse(readFileSync(join(a, 'report.json'), 'utf8')));

async function correctness(dir) {
  const s = await ort.InferenceSession.create(readFileSync(join(dir, 'model.qdq.onnx')), { executionProviders: ['cpu'], graphOptimizationLevel: 'disabled' });
  const ok = new Uint8Array(n);
  for (let i0 = 0; i0 < n; i0 += 500) {
    const m = Math.min(500, n - i0);
    const x = new Float32Array(m * h * w);
    for (let i = 0; i < x.length; i++) x[i] = px(images.data[i0 * h * w + i]);
    const out = (await s.run({ [s.inputNames[0]]: new ort.Tensor('float32', x, [m, 1, h, w]) }))[s.outputNames[0]].data;
    const k = out.length / m;
    for (let j = 0; j < m; j++) {
      let best = 0;
      for (let c = 1; c < k; c++) if (out[j * k + c] > out[j * k + best]) best = c;
      ok[i0 + j] = best === labels[i0 + j] ? 1 : 0;
    }
  }
  await s.release();
  return ok;
}
const [oa, ob] = [await correctness(a), await correctness(b)];
let onlyA = 0, onlyB = 0, accA = 0, accB = 0;
for (let i = 0; i < n; i++) {
  accA += oa[i];
  accB += ob[i];
  if (oa[i] && !ob[i]) onlyA++;
  if (ob[i] && !oa[i]) onlyB++;
}
// two-sided exact sign test: P(|X - d/2| >= |onlyA - d/2|), X ~ Binomial(d, 1/2)
const d = onlyA + onlyB;
const logC = (k) => { let s = 0; for (let i = 1; i <= k; i++) s += Math.log((d - k + i) / i); return s; };
let p = 0;
for (let k = 0; k <= d; k++) if (Math.abs(k - d / 2) >= Math.abs(onlyA - d / 2)) p += Math.exp(logC(k) - d * Math.LN2);
console.log(`${a}: ${(100 * accA / n).toFixed(2)} %, ${b}: ${(100 * accB / n).toFixed(2)} % on ${n} test images; ` +
  `right only in A ${onlyA}, only in B ${onlyB} (sign test p = ${Math.min(1, p).toFixed(3)})`);
