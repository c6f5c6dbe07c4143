/**
 * Integer linear (fully connected) layer: x [N, K] (int8 / uint8 / int16, zero point), w [O, K] int8 symmetric
 * per output channel, int32 bias; acc[n,o] = sum_k (x[n,k] - x_zp) * w[o,k] + bias[o] in int32, then
 * per-output-channel requantization (requant.ts). Integer-only datapath.
 */
import { assertIntArray, requantize, type IntArray, type OutputSpec, type RequantSpec } from './requant.ts';

export interface QLinearInput {
  x: Int8Array | Uint8Array | Int16Array;
  xShape: readonly [number, number];
  xZeroPoint: number;
  w: Int8Array;
  wShape: readonly [number, number];
  bias?: Int32Array | null;
}

export function linearAccumulate(input: QLinearInput): { acc: Int32Array; shape: [number, number] } {
  const { x, w, xZeroPoint: zp } = input;
  assertIntArray('linear x', x);
  assertIntArray('linear w', w);
  if (input.bias != null) assertIntArray('linear bias', input.bias);
  if (!Number.isInteger(zp)) throw new TypeError('linear x zero point must be an integer');
  const [N, K] = input.xShape;
  const [O, K2] = input.wShape;
  if (K !== K2) throw new RangeError(`linear: x has ${K} features, w expects ${K2}`);
  if (x.length !== N * K || w.length !== O * K) throw new RangeError('linear: data length != shape');
  if (input.bias != null && input.bias.length !== O) throw new RangeError('linear: bias length != O');
  const acc = new Int32Array(N * O);
  const xc = new Int32Array(K);
  for (let n = 0; n < N; n++) {
    for (let k = 0; k < K; k++) xc[k] = x[n * K + k] - zp;
    for (let o = 0; o < O; o++) {
      let s = input.bias != null ? input.bias[o] : 0;
      const wb = o * K;
      for (let k = 0; k < K; k++) s = (s + Math.imul(xc[k], w[wb + k])) | 0; // int32 wrap-around
      acc[n * O + o] = s;
    }
  }
  return { acc, shape: [N, O] };
}

/** Quantized linear: int32 accumulation then per-output-channel requantization (int32 output = accumulator). */
export function linearInt(
  input: QLinearInput,
  requant: RequantSpec | null,
  out: OutputSpec,
): { data: IntArray; shape: [number, number] } {
  const { acc, shape } = linearAccumulate(input);
  return { data: requantize(acc, requant, out, { channels: shape[1], inner: 1 }), shape };
}
