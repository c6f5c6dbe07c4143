/**
 * The integer grid of one conv / linear weight as the model quantizes it: per output channel the min-max
 * scale (exactly convert's `weightScales`, which QuantizedModel reproduces on the device), floor(w / s) with the
 * fake quant's float32 arithmetic, and round-to-nearest. AdaRound chooses floor or floor + 1 per weight and
 * writes q * s back into the float weights; so that the model, convert and the simulator then see exactly those
 * integers, the write-back must leave every channel's min-max scale unchanged:
 *  - the elements with |w| = the channel's max |w| ("edge" elements) keep their float value (and nearest rounding);
 *  - every other element stays within [-K, K], K the largest integer with f32(K * s) <= max |w|.
 */
import { quantizeWeights, weightScales } from '../convert.ts';
import type { March } from '../march.ts';
import { quantizeValue } from '../fake-quantize-ref.ts';
import type { RoundingMode } from '../rounding.ts';

export interface WeightGrid {
  channels: number;
  inner: number;
  scales: Float32Array;
  /** floor(f32(w * f32(1 / s))) per element. */
  floor: Float32Array;
  /** The fake quant's integer (round to nearest, clamped) per element. */
  nearest: Int32Array;
  /** Per channel: the integers AdaRound may choose, [lo, hi]. */
  lo: Int32Array;
  hi: Int32Array;
  /** 1: an edge element (keeps its float value and its nearest rounding). */
  frozen: Uint8Array;
}

const f32 = Math.fround;

export function weightGrid(w: Float32Array, channels: number, quantMin: number, quantMax: number, march: March, rounding: RoundingMode): WeightGrid {
  const inner = w.length / channels;
  if (!Number.isInteger(inner)) throw new Error(`weight of ${w.length} values is not ${channels} channels`);
  const scales = weightScales(w, channels, quantMin, quantMax, march);
  const floor = new Float32Array(w.length);
  const nearest = new Int32Array(w.length);
  const lo = new Int32Array(channels), hi = new Int32Array(channels);
  const frozen = new Uint8Array(w.length);
  for (let c = 0; c < channels; c++) {
    const s = scales[c];
    const inv = f32(1 / s);
    let amax = 0;
    for (let i = c * inner; i < (c + 1) * inner; i++) amax = Math.max(amax, Math.abs(w[i]));
    let k = Math.floor(amax / s) + 1;
    while (k > 0 && f32(k * s) > amax) k--;
    lo[c] = Math.max(quantMin, -k);
    hi[c] = Math.min(quantMax, k);
    for (let i = c * inner; i < (c + 1) * inner; i++) {
      floor[i] = Math.floor(f32(w[i] * inv));
      const q = quantizeValue(w[i], inv, 0, rounding);
      nearest[i] = q < quantMin ? quantMin : q > quantMax ? quantMax : q;
      frozen[i] = Math.abs(w[i]) === amax ? 1 : 0;
    }
  }
  return { channels, inner, scales, floor, nearest, lo, hi, frozen };
}

/** The integer of element i for a rounding offset (0 = down, 1 = up), within the channel's limits. */
export function gridValue(g: WeightGrid, i: number, up: number): number {
  if (g.frozen[i]) return g.nearest[i];
  const c = Math.floor(i / g.inner);
  const q = g.floor[i] + up;
  return q < g.lo[c] ? g.lo[c] : q > g.hi[c] ? g.hi[c] : q;
}

export class WriteBackError extends Error {}

/**
 * Float weights whose quantization is exactly `q` (edge elements keep `w`): q * s for every other element.
 * Checked against convert's own scale and quantization rule, so a mismatch can never reach the simulator.
 */
export function writeBack(w: Float32Array, g: WeightGrid, q: Int32Array, quantMin: number, quantMax: number, march: March, rounding: RoundingMode): Float32Array {
  const out = new Float32Array(w.length);
  for (let i = 0; i < w.length; i++) out[i] = g.frozen[i] ? w[i] : f32(q[i] * g.scales[Math.floor(i / g.inner)]);
  const s2 = weightScales(out, g.channels, quantMin, quantMax, march);
  for (let c = 0; c < g.channels; c++) {
    if (s2[c] !== g.scales[c]) throw new WriteBackError(`channel ${c}: the written-back weights change its scale (${g.scales[c]} -> ${s2[c]})`);
  }
  const q2 = quantizeWeights(out, g.scales, quantMin, quantMax, rounding);
  for (let i = 0; i < w.length; i++) {
    if (q2[i] !== q[i]) throw new WriteBackError(`weight ${i}: written back as ${out[i]}, quantizes to ${q2[i]}, not ${q[i]}`);
  }
  return out;
}
