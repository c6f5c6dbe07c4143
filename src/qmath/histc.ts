/** torch.histc and a min/max scan: the histogram observer's arithmetic, shared by the CPU backend and the observers. */

const f32 = Math.fround;

/** min/max of a float32 array (NaN ignored). Returns [+inf, -inf] when empty. */
export function aminmax(x: ArrayLike<number>): [number, number] {
  let mn = Infinity;
  let mx = -Infinity;
  for (let i = 0; i < x.length; i++) {
    const v = x[i];
    if (v < mn) mn = v;
    if (v > mx) mx = v;
  }
  return [mn, mx];
}

/** torch.histc(x, bins, min=lo, max=hi) on a float32 tensor (1.13 CPU kernel). */
export function torchHistc(x: ArrayLike<number>, bins: number, lo: number, hi: number): Float32Array {
  const hist = new Float32Array(bins);
  let left = lo;
  let right = hi;
  if (left === right && x.length > 0) {
    const [mn, mx] = aminmax(x);
    left = mn;
    right = mx;
  }
  if (left === right) {
    left -= 1;
    right += 1;
  }
  const L = f32(left);
  const R = f32(right);
  const width = f32(R - L);
  for (let i = 0; i < x.length; i++) {
    const v = x[i];
    if (v < L || R < v || v !== v) continue;
    let pos = Math.trunc(f32(f32(f32(v - L) * bins) / width));
    if (pos === bins) pos -= 1;
    hist[pos] += 1;
  }
  return hist;
}

