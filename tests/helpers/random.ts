/** Seeded random numbers for tests. */

/** mulberry32: a tiny 32-bit PRNG; returns uniform floats in [0, 1). */
export function mulberry32(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/** n standard normal samples (Box-Muller) in a new array of type Ctor. */
export function randn<T extends Float32Array | Float64Array = Float64Array>(
  rng: () => number, n: number, Ctor: { new (n: number): T } = Float64Array as unknown as { new (n: number): T },
): T {
  const out = new Ctor(n);
  for (let i = 0; i < n; i++) {
    const u = 1 - rng(), v = rng();
    out[i] = Math.sqrt(-2 * Math.log(u)) * Math.cos(2 * Math.PI * v);
  }
  return out;
}
