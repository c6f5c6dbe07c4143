/**
 * Integer kernels of the transformer pieces (docs/fixed-point.md §10): the transpose moves integers; the matmul
 * accumulates int8 / int16 products in int32 (the sum is exact in a double; one that leaves int32 is an error, never
 * wrapped: int8 · int8 sums fit for K < 2^17, an int16 softmax · int8 value for K < 2^9) and requantizes per tensor
 * with the 'horizon' multiplier and shift (requant.ts), as the BPU's matmul unit does.
 */
import { permuteInto } from '../../qmath/permute.ts';
import { allocInt, requantizeHorizon, type IntArray, type QDType } from './requant.ts';

/** y = x with the per-sample axes permuted (shape batch first; perm over the full rank, perm[0] = 0). */
export function transposeInt(x: IntArray, shape: readonly number[], perm: readonly number[]): { data: IntArray; shape: number[] } {
  const y = new (x.constructor as new (n: number) => IntArray)(x.length);
  return { data: permuteInto(x, y, shape, perm), shape: perm.map((p) => shape[p]) };
}

/** int32 acc[q, m, n] = Σ_k a[q, m, k] · b[q, k, n] (transB: b[q, n, k]); a [..., M, K], b [..., K, N] (or [..., N, K]). */
export function matmulAcc(a: IntArray, aShape: readonly number[], b: IntArray, bShape: readonly number[], transB: boolean): { acc: Int32Array; shape: number[] } {
  const r = aShape.length;
  const [M, K] = aShape.slice(r - 2);
  const [Kb, N] = transB ? [bShape[r - 1], bShape[r - 2]] : [bShape[r - 2], bShape[r - 1]];
  if (K !== Kb || bShape.length !== r || aShape.slice(0, r - 2).some((d, i) => d !== bShape[i])) throw new Error(`matmul: [${aShape}] x [${bShape}]${transB ? 'ᵀ' : ''} do not multiply`);
  const batch = aShape.slice(0, r - 2).reduce((p, d) => p * d, 1);
  const acc = new Int32Array(batch * M * N);
  const [sbk, sbn] = transB ? [1, K] : [N, 1];
  for (let q = 0; q < batch; q++) {
    const a0 = q * M * K, b0 = q * K * N;
    for (let m = 0; m < M; m++) {
      for (let n = 0; n < N; n++) {
        let s = 0;
        for (let k = 0; k < K; k++) s += a[a0 + m * K + k] * b[b0 + k * sbk + n * sbn];
        if (!(Math.abs(s) <= 0x7fffffff)) throw new Error(`matmul: accumulator ${s} leaves int32`);
        acc[q * M * N + m * N + n] = s;
      }
    }
  }
  return { acc, shape: [...aShape.slice(0, r - 2), M, N] };
}

export function matmulInt(a: IntArray, aShape: readonly number[], b: IntArray, bShape: readonly number[], transB: boolean,
  rq: { multiplier: Int32Array; shift: Int32Array }, dtype: QDType, lo: number, hi: number): { data: IntArray; shape: number[] } {
  const { acc, shape } = matmulAcc(a, aShape, b, bShape, transB);
  const data = acc.length ? requantizeHorizon(acc, rq.multiplier, rq.shift, { dtype, zeroPoint: 0, clampMin: lo, clampMax: hi }, { channels: 1, inner: acc.length }) : allocInt(dtype, 0);
  return { data, shape };
}

/**
 * Softmax rows of length d in integers: e = table[max − q] (0 past the table), S = Σ e (exact: ≤ d · 2^expBits),
 * out = clamp(floor((2 · e · recip + S · 2^recipShift) / (2 · S · 2^recipShift)), lo, hi)   (round half up of e · recip / (S · 2^recipShift)).
 * Products stay below 2^53 (checked at convert), so the double arithmetic is exact integer arithmetic.
 */
export function softmaxInt(x: IntArray, d: number, table: Int32Array, recip: number, recipShift: number, dtype: QDType, lo: number, hi: number): IntArray {
  const out = allocInt(dtype, x.length);
  const e = new Float64Array(d);
  const den = 2 ** recipShift;
  for (let r = 0; r < x.length; r += d) {
    let mx = x[r];
    for (let i = 1; i < d; i++) if (x[r + i] > mx) mx = x[r + i];
    let S = 0;
    for (let i = 0; i < d; i++) {
      const k = mx - x[r + i];
      e[i] = k < table.length ? table[k] : 0;
      S += e[i];
    }
    for (let i = 0; i < d; i++) {
      const v = Math.floor((2 * e[i] * recip + S * den) / (2 * S * den));
      out[r + i] = Math.min(hi, Math.max(lo, v));
    }
  }
  return out;
}
