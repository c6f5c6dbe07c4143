/**
 * Separable 2-D resampling by per-axis tap tables (Backend.resample2d): Resize's forward, and with the transposed
 * tables its backward. Accumulates in float32 in the order of shaders/resample.wgsl (per row tap, the column taps
 * first), so the WebGPU kernel matches it to rounding.
 */
import type { ResampleAxis, Shape } from '../backend.ts';
import { checkSize } from './types.ts';

const f = Math.fround;

export function resample2d(x: Float32Array, shape: Shape, rows: ResampleAxis, cols: ResampleAxis): { data: Float32Array; shape: number[] } {
  if (shape.length !== 4) throw new Error(`resample2d: expected an [N, C, H, W] tensor, got [${shape}]`);
  const [N, C, H, W] = shape;
  if (H !== rows.inSize || W !== cols.inSize) throw new Error(`resample2d: tables are for ${rows.inSize}x${cols.inSize}, input is ${H}x${W}`);
  checkSize('resample2d x', x, N * C * H * W);
  const OH = rows.start.length - 1, OW = cols.start.length - 1;
  const y = new Float32Array(N * C * OH * OW);
  for (let nc = 0; nc < N * C; nc++) {
    const base = nc * H * W;
    for (let p = 0; p < OH; p++) {
      for (let q = 0; q < OW; q++) {
        let acc = 0;
        for (let k = rows.start[p]; k < rows.start[p + 1]; k++) {
          const row = base + rows.index[k] * W;
          let r = 0;
          for (let l = cols.start[q]; l < cols.start[q + 1]; l++) r = f(r + f(cols.weight[l] * x[row + cols.index[l]]));
          acc = f(acc + f(rows.weight[k] * r));
        }
        y[(nc * OH + p) * OW + q] = acc;
      }
    }
  }
  return { data: y, shape: [N, C, OH, OW] };
}

/** x + b[c] over an [N, C, ...] tensor. */
export function addChannelBias(x: Float32Array, shape: Shape, b: Float32Array): Float32Array {
  const [N, C] = shape;
  checkSize('addChannelBias b', b, C);
  const inner = x.length / Math.max(1, N * C);
  const y = new Float32Array(x.length);
  for (let i = 0; i < x.length; i++) y[i] = x[i] + b[Math.floor(i / inner) % C];
  return y;
}
