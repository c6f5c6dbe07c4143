/**
 * The sampling taps of ONNX Resize along one axis, read by every stage: the float forward and backward
 * (src/engine/fns/resample.ts), the integer simulator's fixed-point weights (src/ops/resize/lower.ts) and the viewer.
 * Coordinates follow the ONNX spec as onnxruntime computes them (float32 arithmetic, so nearest picks the same
 * pixel at .5 ties): x_orig from x_out by the coordinate transformation mode, then
 *   nearest  one tap: index = nearest_mode(x_orig) clamped to [0, in − 1]
 *   linear   two taps: x = clamp(x_orig, 0, in − 1), i0 = floor(x), i1 = min(i0 + 1, in − 1),
 *            weights (i1 − x, x − i0), or (0.5, 0.5) where i0 = i1 (the last pixel)
 */

export type ResizeMode = 'nearest' | 'linear';
export type CoordMode = 'half_pixel' | 'pytorch_half_pixel' | 'align_corners' | 'asymmetric' | 'tf_half_pixel_for_nn';
export type NearestMode = 'round_prefer_floor' | 'round_prefer_ceil' | 'floor' | 'ceil';

export const COORD_MODES: readonly CoordMode[] = ['half_pixel', 'pytorch_half_pixel', 'align_corners', 'asymmetric', 'tf_half_pixel_for_nn'];
export const NEAREST_MODES: readonly NearestMode[] = ['round_prefer_floor', 'round_prefer_ceil', 'floor', 'ceil'];

/** A Resize node's attributes (the IR's `resize`): the output size and the scales the coordinates use. */
export interface ResizeAttrs {
  mode: ResizeMode;
  coord: CoordMode;
  nearest: NearestMode;
  outH: number;
  outW: number;
  /** out / in as ONNX uses it (the given scale, or f32(out) / f32(in) when the sizes were given). */
  scaleH: number;
  scaleW: number;
  /** The size was given (Resize's `sizes`), not a scale: the QDQ export writes sizes too. */
  bySizes?: true;
}

/** Two taps per output position: inputs index[2j], index[2j+1] with weights weight[2j], weight[2j+1] (sum 1). */
export interface AxisTaps {
  inSize: number;
  index: Int32Array;
  weight: Float64Array;
}

const f = Math.fround;

function originalCoord(xOut: number, inSize: number, outSize: number, scale: number, coord: CoordMode): number {
  switch (coord) {
    case 'half_pixel': return f(f(f(xOut + 0.5) / f(scale)) - 0.5);
    case 'pytorch_half_pixel': return outSize > 1 ? f(f(f(xOut + 0.5) / f(scale)) - 0.5) : 0;
    case 'align_corners': return outSize === 1 ? 0 : f(f(xOut * (inSize - 1)) / (outSize - 1));
    case 'asymmetric': return f(xOut / f(scale));
    case 'tf_half_pixel_for_nn': return f(f(xOut + 0.5) / f(scale));
  }
}

function nearestIndex(x: number, mode: NearestMode): number {
  switch (mode) {
    case 'round_prefer_floor': return x === Math.trunc(x) + 0.5 ? Math.floor(x) : roundAway(x);
    case 'round_prefer_ceil': return roundAway(x);
    case 'floor': return Math.floor(x);
    case 'ceil': return Math.ceil(x);
  }
}

/** std::round: half away from zero. */
function roundAway(x: number): number {
  return Math.sign(x) * Math.round(Math.abs(x));
}

export function axisTaps(inSize: number, outSize: number, scale: number, a: Pick<ResizeAttrs, 'mode' | 'coord' | 'nearest'>): AxisTaps {
  const index = new Int32Array(2 * outSize);
  const weight = new Float64Array(2 * outSize);
  for (let j = 0; j < outSize; j++) {
    const x = originalCoord(j, inSize, outSize, scale, a.coord);
    if (a.mode === 'nearest') {
      const i = Math.min(Math.max(nearestIndex(x, a.nearest), 0), inSize - 1);
      index[2 * j] = index[2 * j + 1] = i;
      weight[2 * j] = 1;
      continue;
    }
    const xc = Math.min(Math.max(x, 0), inSize - 1);
    const i0 = Math.min(Math.trunc(xc), inSize - 1);
    const i1 = Math.min(i0 + 1, inSize - 1);
    index[2 * j] = i0;
    index[2 * j + 1] = i1;
    if (i0 === i1) weight[2 * j] = weight[2 * j + 1] = 0.5;
    else {
      weight[2 * j] = f(i1 - xc);
      weight[2 * j + 1] = f(xc - i0);
    }
  }
  return { inSize, index, weight };
}

/** The row and column taps of a resize of an [.., H, W] input. */
export function resizeTaps(a: ResizeAttrs, inH: number, inW: number): { rows: AxisTaps; cols: AxisTaps } {
  return { rows: axisTaps(inH, a.outH, a.scaleH, a), cols: axisTaps(inW, a.outW, a.scaleW, a) };
}

/** Output size of an axis given by a scale (ONNX: floor(in · scale)). */
export function scaledSize(inSize: number, scale: number): number {
  return Math.floor(f(f(scale) * inSize));
}
