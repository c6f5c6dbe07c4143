/**
 * The integer resize (docs/fixed-point.md "resize"): for each output (p, q) of an [N, C, H, W] integer tensor, rows
 * first, then columns:
 *   t_b = round_half_up((wr[2p]·x[r0, c_b] + wr[2p + 1]·x[r1, c_b]) / 2^midShift)     (b = 0, 1: the column taps)
 *   acc = wc[2q]·t_0 + wc[2q + 1]·t_1                                                   (int32)
 * Nearest has weights (1, 0) and midShift 0: acc is the picked input. Linear weights are Q15 (fracBits 15) and
 * midShift = 15 − k keeps k = 16 − (input bits) fraction bits in t, so |t| <= 2^15 and |acc| <= 2^30 for int8 and
 * int16 alike; the caller requantizes acc (src/sim/run.ts).
 */
import type { IntLayer, ResizeTable } from '../model.ts';
import type { AccumulatorRange, RangeOf } from './accumulator.ts';
import type { IntArray } from './requant.ts';

/** round_half_up(v / 2^s) for an int32 v (s = 0: v). */
export function roundShift(v: number, s: number): number {
  return s === 0 ? v : (v + (1 << (s - 1))) >> s;
}

export function resizeAcc(x: IntArray, shape: readonly number[], rows: ResizeTable, cols: ResizeTable, midShift: number): { acc: Int32Array; shape: number[] } {
  const [N, C, H, W] = shape;
  const OH = rows.index.length / 2, OW = cols.index.length / 2;
  for (const i of rows.index) if (i < 0 || i >= H) throw new RangeError(`resize: row index ${i} outside ${H} rows`);
  for (const i of cols.index) if (i < 0 || i >= W) throw new RangeError(`resize: column index ${i} outside ${W} columns`);
  const acc = new Int32Array(N * C * OH * OW);
  const ri = rows.index, rw = rows.weight, ci = cols.index, cw = cols.weight;
  for (let nc = 0; nc < N * C; nc++) {
    const base = nc * H * W;
    let o = nc * OH * OW;
    for (let p = 0; p < OH; p++) {
      const r0 = base + ri[2 * p] * W, r1 = base + ri[2 * p + 1] * W, w0 = rw[2 * p], w1 = rw[2 * p + 1];
      for (let q = 0; q < OW; q++, o++) {
        const c0 = ci[2 * q], c1 = ci[2 * q + 1];
        const t0 = roundShift(w0 * x[r0 + c0] + w1 * x[r1 + c0], midShift);
        const t1 = roundShift(w0 * x[r0 + c1] + w1 * x[r1 + c1], midShift);
        acc[o] = cw[2 * q] * t0 + cw[2 * q + 1] * t1;
      }
    }
  }
  return { acc, shape: [N, C, OH, OW] };
}

/** The accumulator's range: each pass of non-negative weights summing to 2^F keeps x's range, scaled (§6.6). */
export function resizeAccumulator(l: Extract<IntLayer, { op: 'resize' }>, of: RangeOf): AccumulatorRange {
  const [lo, hi] = of(l.inputs[0]);
  const f = 2 ** (2 * l.fracBits - l.midShift);
  return { range: [Math.floor(lo * f), Math.ceil(hi * f)], channel: 0 };
}
