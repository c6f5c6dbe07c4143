/**
 * The axis permutation's index walk, shared by the float reference's transpose (src/engine/reference/tokens.ts) and
 * the simulator's integer transpose (src/sim/int/tokens.ts), so that both move the same elements to the same places.
 */

/** y[o] = x[src(o)] with y.shape[k] = shape[perm[k]] (row-major, any rank); y is written and returned. */
export function permuteInto<T extends { [i: number]: number }>(x: ArrayLike<number>, y: T, shape: readonly number[], perm: readonly number[]): T {
  const r = shape.length;
  const out = perm.map((p) => shape[p]);
  const inStride = new Array<number>(r);
  for (let k = r - 1, s = 1; k >= 0; k--) { inStride[k] = s; s *= shape[k]; }
  const stride = perm.map((p) => inStride[p]);
  const idx = new Array<number>(r).fill(0);
  for (let o = 0; o < x.length; o++) {
    let src = 0;
    for (let k = 0; k < r; k++) src += idx[k] * stride[k];
    y[o] = x[src];
    // odometer over the output's axes, last fastest
    for (let k = r - 1; k >= 0; k--) { if (++idx[k] < out[k]) break; idx[k] = 0; }
  }
  return y;
}
