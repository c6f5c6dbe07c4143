/**
 * Resize (nearest / linear) on the tape: forward = Backend.resample2d with the taps of src/qmath/resize-taps.ts,
 * backward = the same kernel with the transposed tables (each input position gathers the outputs that read it),
 * so neither backend needs a scatter.
 */
import type { ResampleAxis } from '../backend.ts';
import type { Fn } from '../autograd.ts';
import type { AxisTaps } from '../../qmath/resize-taps.ts';

/** Two taps per output in CSR form; zero-weight taps (nearest's second, ...) are dropped. */
export function tapsToAxis(t: AxisTaps): ResampleAxis {
  const out = t.index.length / 2;
  const start = new Int32Array(out + 1);
  const index: number[] = [];
  const weight: number[] = [];
  for (let j = 0; j < out; j++) {
    for (let k = 2 * j; k < 2 * j + 2; k++) {
      if (t.weight[k] === 0) continue;
      index.push(t.index[k]);
      weight.push(t.weight[k]);
    }
    start[j + 1] = index.length;
  }
  return { inSize: t.inSize, start, index: Int32Array.from(index), weight: Float32Array.from(weight) };
}

/** The transposed table: input position i reads the outputs j that read i, with the same weights. */
export function transposeAxis(a: ResampleAxis): ResampleAxis {
  const out = a.start.length - 1;
  const count = new Int32Array(a.inSize + 1);
  for (let k = 0; k < a.index.length; k++) count[a.index[k] + 1]++;
  for (let i = 0; i < a.inSize; i++) count[i + 1] += count[i];
  const start = Int32Array.from(count);
  const fill = Int32Array.from(count);
  const index = new Int32Array(a.index.length);
  const weight = new Float32Array(a.index.length);
  for (let j = 0; j < out; j++) {
    for (let k = a.start[j]; k < a.start[j + 1]; k++) {
      const p = fill[a.index[k]]++;
      index[p] = j;
      weight[p] = a.weight[k];
    }
  }
  return { inSize: out, start, index, weight };
}

export interface ResampleAttrs {
  rows: ResampleAxis;
  cols: ResampleAxis;
}

export const resampleFn: Fn<ResampleAttrs> = {
  name: 'resample2d',
  forward: (be, [x], a) => be.resample2d(x, a.rows, a.cols),
  backward: (be, gy, { attrs: a }) => [be.resample2d(gy, transposeAxis(a.rows), transposeAxis(a.cols))],
};
