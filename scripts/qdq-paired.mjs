// Paired comparison of two calibrations of one model on all 10 000 Fashion-MNIST test images, by their QDQ exports
// (DIR/model.qdq.onnx, written by `compile`) in onnxruntime (optimizations off, as scripts/qdq-accuracy.mjs): the
// images only A gets right, those only B gets right, and the two-sided sign test (exact binomial) on them, to tell
// an accuracy difference from the noise of which images sit at a decision boundary.
// Usage: node scripts/qdq-paired.mjs DIR_A DIR_B [IDX_FOLDER]   (normalization from each DIR/report.json's calib section)
import { DEFAULT_IDX, qdqCorrect, readTestSet, signTest } from './fashion-test-set.mjs';

const [a, b, idx = DEFAULT_IDX] = process.argv.slice(2);
if (!a || !b) throw new Error('usage: node scripts/qdq-paired.mjs DIR_A DIR_B [IDX_FOLDER]');
const test = readTestSet(idx);
const { n } = test;
const [oa, ob] = [await qdqCorrect(a, test), await qdqCorrect(b, test)];
let onlyA = 0, onlyB = 0, accA = 0, accB = 0;
for (let i = 0; i < n; i++) {
  accA += oa[i];
  accB += ob[i];
  if (oa[i] && !ob[i]) onlyA++;
  if (ob[i] && !oa[i]) onlyB++;
}
console.log(`${a}: ${(100 * accA / n).toFixed(2)} %, ${b}: ${(100 * accB / n).toFixed(2)} % on ${n} test images; ` +
  `right only in A ${onlyA}, only in B ${onlyB} (sign test p = ${signTest(onlyA, onlyB).toFixed(3)})`);
