/**
 * A per-sample tensor (a learned constant: a class token, a position table) repeated over the batch, on the existing
 * dense kernels: y[n, :] = p as ones[N, 1] · p[M, 1]ᵀ (Backend.linear), so dp = Σ_n dy[n, :] (Backend.sumRows).
 */
import type { Fn } from '../autograd.ts';

export const broadcastBatchFn: Fn<{ batch: number }> = {
  name: 'broadcast_batch',
  forward: (be, [p], { batch }) => {
    const m = p.shape.reduce((a, b) => a * b, 1);
    const ones = be.upload(new Float32Array(batch).fill(1), [batch, 1]);
    const w = be.reshape(p, [m, 1]);
    const y2 = be.linear(ones, w, null);
    be.release(ones);
    be.release(w);
    const y = be.reshape(y2, [batch, ...p.shape]);
    be.release(y2);
    return y;
  },
  backward: (be, gy, { inputs: [p] }) => {
    const m = p.shape.reduce((a, b) => a * b, 1);
    const g2 = be.reshape(gy, [gy.shape[0], m]);
    const s = be.sumRows(g2);
    be.release(g2);
    const g = be.reshape(s, [...p.shape]);
    be.release(s);
    return [g];
  },
};
