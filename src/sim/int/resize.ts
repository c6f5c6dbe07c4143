/**
 * The integer resize (docs/fixed-point.md "resize"): for each output (p, q) of an [N, C, H, W] integer tensor,
 *   acc = Σ_{a, b ∈ {0, 1}} wr[2p + a] · wc[2q + b] · x[rows.index[2p + a], cols.index[2q + b]]     (int32)
 * Nearest has weights (1, 0): acc is the picked input. Linear weights are Q-fracBits fixed point; the caller
 * requantizes acc (src/sim/run.ts). |acc| <= 2^15 · 2^(2·fracBits) < 2^31 for fracBits <= 7 (int16), 8 (int8).
 */
import type { ResizeTable } from '../model.ts';
import type { IntArray } from './requant.ts';

export function resizeAcc(x: IntArray, shape: readonly number[], rows: ResizeTable, cols: ResizeTable): { acc: Int32Array; shape: number[] } {
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
        const c0 = ci[2 * q], c1 = ci[2 * q + 1], v0 = cw[2 * q], v1 = cw[2 * q + 1];
        acc[o] = w0 * (v0 * x[r0 + c0] + v1 * x[r0 + c1]) + w1 * (v0 * x[r1 + c0] + v1 * x[r1 + c1]);
      }
    }
  }
  return { acc, shape: [N, C, OH, OW] };
}
