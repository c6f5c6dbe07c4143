// The official Fashion-MNIST test split (gzipped IDX, Debian's dataset-fashion-mnist) and a calibration's input
// normalization, for the scripts that run QDQ exports on all 10 000 test images (qdq-accuracy, -paired, -fidelity,
// ptq-auto-slices).
import { readFileSync } from 'node:fs';
import { gunzipSync } from 'node:zlib';
import { join } from 'node:path';

export const DEFAULT_IDX = '/usr/share/datasets/fashion-mnist';

const idxFile = (idx, name) => {
  const buf = gunzipSync(readFileSync(join(idx, name)));
  const dims = Array.from({ length: buf[3] }, (_, i) => buf.readUInt32BE(4 + 4 * i));
  return { dims, data: buf.subarray(4 + 4 * dims.length) };
};

/** { images (IDX record: dims, data), labels, n, h, w } of the test split in folder `idx`. */
export function readTestSet(idx = DEFAULT_IDX) {
  const images = idxFile(idx, 't10k-images-idx3-ubyte.gz');
  const labels = idxFile(idx, 't10k-labels-idx1-ubyte.gz').data;
  const [n, h, w] = images.dims;
  return { images, labels, n, h, w };
}

/** The pixel -> input map of a calibration's report.json (`calib.normalization`, pixel/255 when absent). */
export function pixelMap(report) {
  const norm = report.calib?.normalization ?? 'pixel/255';
  return (p) => (norm === 'pixel/255' ? p / 255 : (p / 255 - norm.mean[0]) / norm.std[0]);
}

/**
 * Per test image, 1 where the top-1 class of DIR/model.qdq.onnx (onnxruntime, graph optimizations off: Q/DQ executed
 * in float, the format's meaning) is the label, else 0. `test` from readTestSet; normalization from DIR/report.json.
 */
export async function qdqCorrect(dir, test) {
  const { default: ort } = await import('onnxruntime-node');
  const { images, labels, n, h, w } = test;
  const px = pixelMap(JSON.parse(readFileSync(join(dir, 'report.json'), 'utf8')));
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

/** Two-sided exact sign test on discordant pairs: P(|X - d/2| >= |a - d/2|), X ~ Binomial(d = a + b, 1/2). */
export function signTest(a, b) {
  const d = a + b;
  const logC = (k) => { let s = 0; for (let i = 1; i <= k; i++) s += Math.log((d - k + i) / i); return s; };
  let p = 0;
  for (let k = 0; k <= d; k++) if (Math.abs(k - d / 2) >= Math.abs(a - d / 2)) p += Math.exp(logC(k) - d * Math.LN2);
  return Math.min(1, p);
}
