// The official Fashion-MNIST test split (gzipped IDX, Debian's dataset-fashion-mnist) and a calibration's input
// normalization, for the scripts that run QDQ exports on all 10 000 test images (qdq-accuracy, -paired, -fidelity).
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
