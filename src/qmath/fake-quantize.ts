/**
 * CPU reference fake quantization, bit-exact with PyTorch 1.13's CPU kernels
 * (`fake_quantize_per_tensor_affine` / `fake_quantize_per_channel_affine` with their cachemask backward):
 * ```
 * inv   = f32(1 / f32(scale))
 * qval  = int64(f32(zp + round(f32(x * inv))))      // round: half to even (default) or bpu_round
 * out   = f32((clamp(qval, qmin, qmax) - zp) * scale)
 * mask  = qmin <= qval <= qmax
 * grad  = grad_out * mask                            // straight-through estimator with clipping
 * ```
 * Every float32 operation is emulated with Math.fround. Where `x * inv` overflows float32 (or is NaN), the int64
 * conversion of the x86 kernel yields INT64_MIN ("integer indefinite"), so such elements are clamped to qmin with
 * mask 0 — we copy that so the reference matches PyTorch on those pathological inputs too.
 */
import { type RoundingMode, nearbyint, bpuRoundF32 } from './rounding.ts';

const f32 = Math.fround;
const INT64_MIN = -9223372036854775808;
const TWO_POW_63 = 9223372036854775808;

export interface FakeQuantOutput {
  /** Fake-quantized values (float32). */
  out: Float32Array;
  /** STE mask: 1 where qmin <= qval <= qmax (gradient passes), else 0. */
  mask: Uint8Array;
  /** Clamped integer values clamp(qval, qmin, qmax). */
  q: Int32Array;
}

/** Unclamped integer value as the CPU kernel computes it (an int64 held exactly in a double). */
export function quantizeValue(x: number, invScale: number, zeroPoint: number, rounding: RoundingMode): number {
  const t = f32(x * invScale);
  const r = rounding === 'half_even' ? nearbyint(t) : bpuRoundF32(t);
  const s = f32(zeroPoint + r);
  if (!(Math.abs(s) < TWO_POW_63)) return INT64_MIN; // inf / NaN / out of int64: cvttss2si gives INT64_MIN
  return s;
}

function fq1(
  x: number,
  scale: number,
  inv: number,
  zp: number,
  qmin: number,
  qmax: number,
  rounding: RoundingMode,
): [number, number, boolean] {
  const qval = quantizeValue(x, inv, zp, rounding);
  const qc = qval < qmin ? qmin : qval > qmax ? qmax : qval;
  return [f32((qc - zp) * scale), qc, qval >= qmin && qval <= qmax];
}

function checkRange(quantMin: number, quantMax: number): void {
  if (!Number.isInteger(quantMin) || !Number.isInteger(quantMax) || quantMin > quantMax) {
    throw new Error(`bad quant range [${quantMin}, ${quantMax}]`);
  }
}

/** Per-tensor fake quantization forward (also returns the STE mask and the clamped integers). */
export function fakeQuantizePerTensor(
  x: ArrayLike<number>,
  scale: number,
  zeroPoint: number,
  quantMin: number,
  quantMax: number,
  rounding: RoundingMode = 'half_even',
): FakeQuantOutput {
  checkRange(quantMin, quantMax);
  const n = x.length;
  const out = new Float32Array(n);
  const mask = new Uint8Array(n);
  const q = new Int32Array(n);
  const s = f32(scale);
  const inv = f32(1 / s);
  for (let i = 0; i < n; i++) {
    const [o, qc, m] = fq1(f32(x[i]), s, inv, zeroPoint, quantMin, quantMax, rounding);
    out[i] = o;
    q[i] = qc;
    mask[i] = m ? 1 : 0;
  }
  return { out, mask, q };
}

/** Number of channels and the stride structure of `axis` in a row-major tensor of `shape`. */
export function channelLayout(shape: readonly number[], axis: number): { channels: number; inner: number; outer: number } {
  const ax = axis < 0 ? axis + shape.length : axis;
  if (ax < 0 || ax >= shape.length) throw new Error(`axis ${axis} out of range for shape [${shape.join(',')}]`);
  let inner = 1;
  for (let d = ax + 1; d < shape.length; d++) inner *= shape[d];
  let outer = 1;
  for (let d = 0; d < ax; d++) outer *= shape[d];
  return { channels: shape[ax], inner, outer };
}

/** Per-channel fake quantization forward along `axis` (any axis, negative allowed). */
export function fakeQuantizePerChannel(
  x: ArrayLike<number>,
  shape: readonly number[],
  scales: ArrayLike<number>,
  zeroPoints: ArrayLike<number>,
  axis: number,
  quantMin: number,
  quantMax: number,
  rounding: RoundingMode = 'half_even',
): FakeQuantOutput {
  checkRange(quantMin, quantMax);
  const { channels, inner, outer } = channelLayout(shape, axis);
  const n = x.length;
  if (n !== channels * inner * outer) throw new Error(`x has ${n} elements, shape [${shape.join(',')}]`);
  if (scales.length !== channels || zeroPoints.length !== channels) {
    throw new Error(`expected ${channels} scales/zero points, got ${scales.length}/${zeroPoints.length}`);
  }
  const out = new Float32Array(n);
  const mask = new Uint8Array(n);
  const q = new Int32Array(n);
  for (let c = 0; c < channels; c++) {
    const s = f32(scales[c]);
    const inv = f32(1 / s);
    const zp = zeroPoints[c];
    for (let o = 0; o < outer; o++) {
      const base = (o * channels + c) * inner;
      for (let k = 0; k < inner; k++) {
        const i = base + k;
        const [v, qc, m] = fq1(f32(x[i]), s, inv, zp, quantMin, quantMax, rounding);
        out[i] = v;
        q[i] = qc;
        mask[i] = m ? 1 : 0;
      }
    }
  }
  return { out, mask, q };
}

/** STE backward: grad_x = grad_out * mask (float32; masked elements become ±0 like PyTorch's `dY * mask`). */
export function fakeQuantizeBackward(gradOut: ArrayLike<number>, mask: Uint8Array): Float32Array {
  if (gradOut.length !== mask.length) throw new Error('grad/mask length mismatch');
  const g = new Float32Array(gradOut.length);
  for (let i = 0; i < g.length; i++) g[i] = f32(gradOut[i]) * mask[i];
  return g;
}

/** L2 (sum of squared) error between x and its per-tensor fake quantization, in double. */
export function fakeQuantL2Error(
  x: ArrayLike<number>,
  scale: number,
  zeroPoint: number,
  quantMin: number,
  quantMax: number,
  rounding: RoundingMode = 'half_even',
): number {
  const s = f32(scale);
  const inv = f32(1 / s);
  let err = 0;
  for (let i = 0; i < x.length; i++) {
    const xi = f32(x[i]);
    const d = fq1(xi, s, inv, zeroPoint, quantMin, quantMax, rounding)[0] - xi;
    err += d * d;
  }
  return err;
}
