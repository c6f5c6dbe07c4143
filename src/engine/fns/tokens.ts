/** The transformer pieces' autograd functions (Backend.transpose / matmul / softmax / layerNorm). */
import type { Fn } from '../autograd.ts';
import type { BTensor } from '../backend.ts';

/** perm over the full shape (batch included, perm[0] = 0 for a graph value). */
export const transposeFn: Fn<{ perm: readonly number[] }> = {
  name: 'transpose',
  forward: (be, [x], a) => be.transpose(x, a.perm),
  backward: (be, gy, { attrs: a }) => {
    const inv = new Array<number>(a.perm.length);
    a.perm.forEach((p, i) => { inv[p] = i; });
    return [be.transpose(gy, inv)];
  },
};

/**
 * c = op(a) op(b) per batch (op: the transpose when asked). Gradients, with C = A B:
 *   dA = dC Bᵀ, dB = Aᵀ dC, written per flag combination so no transpose is materialized.
 */
export const matmulFn: Fn<{ transA: boolean; transB: boolean }> = {
  name: 'matmul',
  forward: (be, [a, b], { transA, transB }) => be.matmul(a, b, transA, transB),
  backward(be, gy, { inputs: [a, b], attrs: { transA, transB }, needsGrad }) {
    let da: BTensor | null = null, db: BTensor | null = null;
    if (needsGrad[0]) da = transA ? be.matmul(b, gy, transB, true) : be.matmul(gy, b, false, !transB);
    if (needsGrad[1]) db = transB ? be.matmul(gy, a, true, transA) : be.matmul(a, gy, !transA, false);
    return [da, db];
  },
};

/** Softmax over the last axis; the backward reads the output. */
export const softmaxFn: Fn<null> = {
  name: 'softmax',
  forward: (be, [x]) => be.softmax(x),
  backward: (be, gy, { output }) => [be.softmaxBackward(gy, output)],
};

/** Layer norm over the last axis, inputs [x, gamma, beta]; saves the per-row (mean, rstd). */
export const layerNormFn: Fn<{ eps: number }> = {
  name: 'layernorm',
  forward: (be, [x, gamma, beta], { eps }, save) => {
    const [y, stats] = be.layerNorm(x, gamma, beta, eps);
    save(stats);
    return y;
  },
  backward(be, gy, { inputs: [x, gamma], saved: [stats], needsGrad }) {
    const grads: (BTensor | null)[] = be.layerNormBackward(gy, x, stats, gamma);
    return grads.map((t, i) => {
      if (t && !needsGrad[i]) { be.release(t); return null; }
      return t;
    });
  },
};
