/** Helpers shared by the calibration observers: a growing histogram of |x| and a bounded reservoir sample. */

/**
 * Histogram of |x| over [0, range] with a fixed number of bins. When a batch exceeds the range, the range grows to
 * the new max |x| and the old counts are redistributed proportionally to the overlap of old and new bins
 * (each old bin's mass is taken as uniform over its interval).
 */
export class AbsHistogram {
  readonly counts: Float64Array;
  private rangeV = 0;
  private totalV = 0;

  constructor(readonly bins: number) {
    if (!(bins >= 1) || !Number.isInteger(bins)) throw new Error(`bad bin count ${bins}`);
    this.counts = new Float64Array(bins);
  }

  /** Upper edge of the last bin (max |x| seen). */
  get range(): number {
    return this.rangeV;
  }
  get total(): number {
    return this.totalV;
  }
  get binWidth(): number {
    return this.rangeV / this.bins;
  }

  add(x: ArrayLike<number>): void {
    let amax = 0;
    for (let i = 0; i < x.length; i++) {
      const a = Math.abs(x[i]);
      if (a > amax && a !== Infinity) amax = a;
    }
    if (amax > this.rangeV) this.grow(amax);
    const r = this.rangeV;
    const nb = this.bins;
    for (let i = 0; i < x.length; i++) {
      const a = Math.abs(x[i]);
      if (!(a <= r)) continue; // NaN / inf
      let b = r > 0 ? Math.floor((a / r) * nb) : 0;
      if (b >= nb) b = nb - 1;
      this.counts[b] += 1;
      this.totalV += 1;
    }
  }

  private grow(newRange: number): void {
    const old = this.rangeV;
    this.rangeV = newRange;
    if (old === 0 || this.totalV === 0) {
      // everything observed so far was 0: it stays in bin 0
      return;
    }
    const nb = this.bins;
    const oldW = old / nb;
    const newW = newRange / nb;
    const prev = Float64Array.from(this.counts);
    this.counts.fill(0);
    for (let b = 0; b < nb; b++) {
      const c = prev[b];
      if (c === 0) continue;
      const lo = b * oldW;
      const hi = lo + oldW;
      let j = Math.min(nb - 1, Math.floor(lo / newW));
      let pos = lo;
      while (pos < hi && j < nb) {
        const edge = j === nb - 1 ? hi : Math.min(hi, (j + 1) * newW);
        if (edge > pos) this.counts[j] += (c * (edge - pos)) / oldW;
        pos = edge;
        j++;
      }
    }
  }

  /** Center of bin b. */
  center(b: number): number {
    return (b + 0.5) * this.binWidth;
  }
}

/** Deterministic reservoir sample (Algorithm R with a fixed-seed xorshift PRNG) of at most `capacity` values. */
export class Reservoir {
  private readonly buf: Float32Array;
  private seen = 0;
  private state = 0x9e3779b9;

  constructor(readonly capacity: number = 65536) {
    if (!(capacity >= 1)) throw new Error(`bad reservoir capacity ${capacity}`);
    this.buf = new Float32Array(capacity);
  }

  private rand(): number {
    let s = this.state;
    s ^= s << 13;
    s ^= s >>> 17;
    s ^= s << 5;
    this.state = s >>> 0;
    return this.state / 4294967296;
  }

  add(x: ArrayLike<number>): void {
    for (let i = 0; i < x.length; i++) {
      const v = x[i];
      if (!Number.isFinite(v)) continue;
      if (this.seen < this.capacity) this.buf[this.seen] = v;
      else {
        const j = Math.floor(this.rand() * (this.seen + 1));
        if (j < this.capacity) this.buf[j] = v;
      }
      this.seen++;
    }
  }

  /** The kept values (a view). */
  get values(): Float32Array {
    return this.buf.subarray(0, Math.min(this.seen, this.capacity));
  }
  get count(): number {
    return this.seen;
  }
}
