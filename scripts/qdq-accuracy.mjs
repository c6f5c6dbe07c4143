// Top-1 accuracy of a calibrated model's ONNX QDQ export (DIR/model.qdq.onnx, written by `compile`) on all 10 000
// Fashion-MNIST test images, in onnxruntime-node with graph optimizations off (Q/DQ executed in float, the format's
// meaning: the fake-quant model; tests/onnx-qdq.test.ts checks the agreement). Native and fast where the studio's
// own evaluation on a loaded software adapter takes most of an hour; used by scripts/ptq-targets.sh.
// Usage: node scripts/qdq-accuracy.mjs DIR [IDX_FOLDER]   (normalization from DIR/report.json's calib section)
// Merges {"qdq_accuracy": {"acc1", "test_images", "file"}} into DIR/report.json and prints the figure.
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { DEFAULT_IDX, qdqCorrect, readTestSet } from './fashion-test-set.mjs';

const [dir, idx = DEFAULT_IDX] = process.argv.slice(2);
if (!dir) throw new Error('usage: node scripts/qdq-accuracy.mjs DIR [IDX_FOLDER]');
const test = readTestSet(idx);
const { n } = test;
const reportFile = join(dir, 'report.json');
const report = JSON.parse(readFileSync(reportFile, 'utf8'));
const file = join(dir, 'model.qdq.onnx');
const correct = (await qdqCorrect(dir, test)).reduce((t, v) => t + v, 0);
const acc1 = (100 * correct) / n;
report.qdq_accuracy = { acc1, test_images: n, file };
writeFileSync(reportFile, JSON.stringify(report, null, 2) + '\n');
console.log(`QDQ export (onnxruntime, optimizations off): Acc@1 ${acc1.toFixed(2)} on ${n} test images (${file})`);
