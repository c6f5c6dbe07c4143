/**
 * The simulator's transformer layers (src/sim/int/tokens.ts): the integer transpose against the float reference's
 * transpose of the same values, the GPU transpose (src/sim/gpu/transpose.ts) against the CPU one, and the matmul's
 * int32 accumulation (either operand order) against a direct sum of products; an accumulator leaving int32 is an error.
 */
import { afterAll, describe, expect, it } from 'vitest';
import { transpose } from '../src/engine/reference/tokens.ts';
import { readInt, uploadInt } from '../src/sim/gpu/bits.ts';
import { transposeIntGpu } from '../src/sim/gpu/transpose.ts';
import { matmulAcc, softmaxInt, transposeInt } from '../src/sim/int/tokens.ts';
import type { WebGpuBackend } from '../src/engine/webgpu/webgpu-backend.ts';
import { destroyTestBackend, getTestBackend } from './helpers/gpu.ts';
import { mulberry32 } from './helpers/random.ts';

afterAll(destroyTestBackend);

const ints = (n: number, seed: number, lo: number, hi: number) => {
  const r = mulberry32(seed);
  return Int8Array.from({ length: n }, () => lo + Math.floor((hi - lo + 1) * r()));
};

describe('simulator token layers', () => {
  it('transpose: the float reference permutation of the same values; the GPU kernel gives the same integers', async () => {
    const gpu = (await getTestBackend()) as WebGpuBackend;
    for (const [shape, perm] of [[[2, 16, 2, 16], [0, 2, 1, 3]], [[3, 32, 16], [0, 2, 1]], [[2, 3, 4, 5, 6], [0, 3, 1, 4, 2]]] as const) {
      const x = ints(shape.reduce((a, b) => a * b, 1), 1, -128, 127);
      const got = transposeInt(x, shape, perm);
      expect(got.shape).toEqual(perm.map((p) => shape[p]));
      expect(Array.from(got.data)).toEqual(Array.from(transpose(Float64Array.from(x), shape, perm)));
      const t = uploadInt(gpu.ctx, x, shape, 'int8');
      const y = transposeIntGpu(gpu.ctx, t, [...perm]);
      expect(y.shape).toEqual(got.shape);
      expect(Array.from(await readInt(gpu.ctx, y))).toEqual(Array.from(got.data));
      gpu.ctx.release(t.t);
      gpu.ctx.release(y.t);
    }
  });

  it('matmul: int32 sums of products, b as [K, N] or as [N, K] (transB); out of int32 is refused', () => {
    const [B, M, K, N] = [2, 3, 5, 4];
    const a = ints(B * M * K, 2, -128, 127), b = ints(B * K * N, 3, -128, 127);
    const bt = new Int8Array(B * N * K);
    for (let q = 0; q < B; q++) for (let k = 0; k < K; k++) for (let n = 0; n < N; n++) bt[q * N * K + n * K + k] = b[q * K * N + k * N + n];
    const plain = matmulAcc(a, [B, M, K], b, [B, K, N], false), viaT = matmulAcc(a, [B, M, K], bt, [B, N, K], true);
    expect(plain.shape).toEqual([B, M, N]);
    for (let q = 0; q < B; q++) for (let m = 0; m < M; m++) for (let n = 0; n < N; n++) {
      let s = 0;
      for (let k = 0; k < K; k++) s += a[q * M * K + m * K + k] * b[q * K * N + k * N + n];
      expect(plain.acc[q * M * N + m * N + n]).toBe(s);
    }
    expect(Array.from(viaT.acc)).toEqual(Array.from(plain.acc));
    const big = Int16Array.from({ length: 4 }, () => 32767);
    expect(() => matmulAcc(big, [1, 1, 4], big, [1, 4, 1], false)).toThrow(/accumulator .* leaves int32/);
    expect(() => matmulAcc(a, [B, M, K], b, [B, N, K], false)).toThrow(/do not multiply/);
  });

  it('softmax: the exp table, int32 row sums and the fixed-point reciprocal within 1 LSB of round(softmax(q·s_in) / s_out)', () => {
    for (const [dtype, sIn, d] of [['int8', 0.05, 16], ['int16', 2e-3, 16], ['int8', 0.3, 7]] as const) {
      const range = dtype === 'int16' ? 32767 : 127;
      const r = mulberry32(9);
      const q = dtype === 'int16' ? new Int16Array(5 * d) : new Int8Array(5 * d);
      for (let i = 0; i < q.length; i++) q[i] = Math.round((2 * r() - 1) * range);
      const sOut = 1 / 32767, bits = 23;
      const len = Math.min(dtype === 'int16' ? 65536 : 256, Math.ceil((bits * Math.LN2 + 1) / sIn) + 1);
      const table = Int32Array.from({ length: len }, (_, k) => Math.round(Math.exp(-k * sIn) * 2 ** bits));
      const shift = Math.floor(24 + Math.log2(sOut)), recip = Math.round(2 ** shift / sOut);
      const got = softmaxInt(q, d, table, recip, shift, 'int16', -32768, 32767);
      for (let row = 0; row < 5; row++) {
        const xs = Array.from(q.subarray(row * d, row * d + d), (v) => v * sIn);
        const mx = Math.max(...xs), e = xs.map((v) => Math.exp(v - mx)), sum = e.reduce((a, b) => a + b, 0);
        e.forEach((v, i) => expect(Math.abs(got[row * d + i] - Math.round(v / sum / sOut)), `${dtype} row ${row} ${i}`).toBeLessThanOrEqual(1));
      }
    }
  });
});
