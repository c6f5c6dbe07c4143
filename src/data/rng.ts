/**
 * Small seeded PRNG (mulberry32: 32-bit state, fast, good enough for shuffling and augmentation)
 * and Fisher–Yates permutations. Everything here is deterministic across platforms: only 32-bit
 * integer arithmetic (Math.imul, >>>) is used.
 *
 * Seeds are taken as uint32 (`seed >>> 0`): integers 0 .. 2^32-1; negative values wrap.
 *
 * CLI convention: `--subset N` means the first N images of `permutation(trainCount, 0)`, in that
 * order (see `randomSubset` in dataset.ts).
 */

export interface Rng {
  /** Next raw 32-bit value, 0 .. 2^32-1. */
  u32(): number;
  /** Uniform float in [0, 1) (32 bits of randomness). */
  float(): number;
  /** Uniform integer in [0, n), n >= 1 (multiply-shift; bias < n / 2^32). */
  int(n: number): number;
}

/** mulberry32 generator seeded with `seed >>> 0`. */
export function createRng(seed: number): Rng {
  let a = seed >>> 0;
  const u32 = (): number => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return (t ^ (t >>> 14)) >>> 0;
  };
  return {
    u32,
    float: () => u32() / 4294967296,
    int: (n: number) => Math.floor((u32() / 4294967296) * n),
  };
}

/**
 * Hashes several uint32 values into one seed (murmur3-style mixing), to derive independent
 * streams, e.g. `mixSeeds(seed, epoch, STREAM_SHUFFLE)`. Order matters.
 */
export function mixSeeds(...values: number[]): number {
  let h = 0x9e3779b9;
  for (const v of values) {
    let k = Math.imul(v >>> 0, 0xcc9e2d51);
    k = (k << 15) | (k >>> 17);
    k = Math.imul(k, 0x1b873593);
    h ^= k;
    h = (h << 13) | (h >>> 19);
    h = (Math.imul(h, 5) + 0xe6546b64) | 0;
  }
  h ^= values.length;
  h ^= h >>> 16;
  h = Math.imul(h, 0x85ebca6b);
  h ^= h >>> 13;
  h = Math.imul(h, 0xc2b2ae35);
  h ^= h >>> 16;
  return h >>> 0;
}

/**
 * A uniformly random permutation of 0 .. n-1 (Fisher–Yates, drawing from `createRng(seed)`).
 * Same (n, seed) -> same permutation, always.
 */
export function permutation(n: number, seed: number): Uint32Array {
  if (!Number.isInteger(n) || n < 0) throw new RangeError(`permutation: n must be a non-negative integer, got ${n}`);
  const p = new Uint32Array(n);
  for (let i = 0; i < n; i++) p[i] = i;
  const rng = createRng(seed);
  for (let i = n - 1; i > 0; i--) {
    const j = rng.int(i + 1);
    const t = p[i];
    p[i] = p[j];
    p[j] = t;
  }
  return p;
}
