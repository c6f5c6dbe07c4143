/**
 * Running statistics of one layer's values in two stages (a = reference, b = compared): agreement (cosine, SQNR of b
 * against a, max |b − a|, mean of b − a and of |b − a|) and each side's own distribution (min, max, mean, std and
 * the share of values at or beyond the ends of the site's integer range: "clipped" by the chosen scale).
 */
import type { SiteGrid } from './stage-runner.ts';

export interface SideStats {
  min: number;
  max: number;
  mean: number;
  std: number;
  /** Share (0..1) of values with round(x / scale) at or beyond quantMin / quantMax; null without a grid. */
  clipped: number | null;
}

export interface LayerComparison {
  name: string;
  /** Position along the depth of the network (graph order). */
  depth: number;
  elements: number;
  cosine: number;
  /** null in JSON when the two sides are identical (Infinity). */
  sqnr_db: number;
  max_abs_error: number;
  mean_error: number;
  mean_abs_error: number;
  a: SideStats;
  b: SideStats;
}

interface Side { min: number; max: number; sum: number; sumSq: number; clipped: number; grid: SiteGrid | null }

const side = (grid: SiteGrid | null): Side => ({ min: Infinity, max: -Infinity, sum: 0, sumSq: 0, clipped: 0, grid });

export class LayerAccumulator {
  private n = 0;
  private dot = 0;
  private errSq = 0;
  private errSum = 0;
  private absErrSum = 0;
  private maxAbs = 0;
  private readonly sa: Side;
  private readonly sb: Side;

  constructor(readonly name: string, readonly depth: number, gridA: SiteGrid | null, gridB: SiteGrid | null) {
    this.sa = side(gridA);
    this.sb = side(gridB);
  }

  add(a: Float32Array, b: Float32Array): void {
    if (a.length !== b.length) throw new Error(`layer ${this.name}: ${a.length} values against ${b.length}`);
    for (let i = 0; i < a.length; i++) {
      const x = a[i], y = b[i], e = y - x;
      this.dot += x * y;
      this.errSq += e * e;
      this.errSum += e;
      this.absErrSum += Math.abs(e);
      if (Math.abs(e) > this.maxAbs) this.maxAbs = Math.abs(e);
    }
    observe(this.sa, a);
    observe(this.sb, b);
    this.n += a.length;
  }

  result(): LayerComparison {
    const n = Math.max(1, this.n);
    const aSq = this.sa.sumSq, bSq = this.sb.sumSq;
    return {
      name: this.name, depth: this.depth, elements: this.n,
      cosine: aSq === 0 && bSq === 0 ? 1 : aSq === 0 || bSq === 0 ? 0 : this.dot / Math.sqrt(aSq * bSq),
      sqnr_db: this.errSq === 0 ? Infinity : 10 * Math.log10(aSq / this.errSq),
      max_abs_error: this.maxAbs, mean_error: this.errSum / n, mean_abs_error: this.absErrSum / n,
      a: summary(this.sa, this.n), b: summary(this.sb, this.n),
    };
  }
}

function observe(s: Side, v: Float32Array): void {
  const g = s.grid;
  const inv = g ? 1 / g.scale : 0;
  for (let i = 0; i < v.length; i++) {
    const x = v[i];
    if (x < s.min) s.min = x;
    if (x > s.max) s.max = x;
    s.sum += x;
    s.sumSq += x * x;
    if (g) {
      const q = Math.round(x * inv);
      if (q <= g.quantMin || q >= g.quantMax) s.clipped++;
    }
  }
}

function summary(s: Side, count: number): SideStats {
  const n = Math.max(1, count);
  const mean = s.sum / n;
  return {
    min: count ? s.min : 0, max: count ? s.max : 0, mean, std: Math.sqrt(Math.max(0, s.sumSq / n - mean * mean)),
    clipped: s.grid ? s.clipped / n : null,
  };
}
