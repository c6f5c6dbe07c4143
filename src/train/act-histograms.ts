/**
 * Histograms of activation values seen during calibration, one per activation site, for the Quantize
 * panel (with the clip range ±scale·qmax drawn on them). Values are kept as a bounded, strided sample
 * per site (exact min / max over all), binned once at the end over a range symmetric around 0.
 */
import type { ActHistogram } from './quant-protocol.ts';

const SAMPLE_CAP = 32_768;
export const HISTOGRAM_BINS = 64;

interface SiteSample { values: Float32Array; n: number; min: number; max: number }

export class ActHistogramCollector {
  private sites = new Map<string, SiteSample>();

  add(node: string, v: Float32Array): void {
    let s = this.sites.get(node);
    if (!s) this.sites.set(node, (s = { values: new Float32Array(SAMPLE_CAP), n: 0, min: Infinity, max: -Infinity }));
    const stride = Math.max(1, Math.ceil(v.length / 4096));
    for (let i = 0; i < v.length; i++) {
      const x = v[i];
      if (x < s.min) s.min = x;
      if (x > s.max) s.max = x;
      if (i % stride === 0) {
        // Reservoir-like: once full, overwrite in a rotating order so late batches are represented too.
        s.values[s.n % SAMPLE_CAP] = x;
        s.n++;
      }
    }
  }

  get size(): number {
    return this.sites.size;
  }

  /** Histograms with the clip range of each site (scale · [quantMin, quantMax]). */
  finish(clip: (node: string) => [number, number] | null, bins = HISTOGRAM_BINS): ActHistogram[] {
    const out: ActHistogram[] = [];
    for (const [node, s] of this.sites) {
      const c = clip(node) ?? [s.min, s.max];
      const edge = Math.max(Math.abs(s.min), Math.abs(s.max), Math.abs(c[0]), Math.abs(c[1]), 1e-12) * 1.05;
      const lo = s.min >= 0 && c[0] >= -1e-12 ? 0 : -edge;
      const hi = edge;
      out.push({ node, lo, hi, counts: binValues(s.values.subarray(0, Math.min(s.n, SAMPLE_CAP)), lo, hi, bins), min: s.min, max: s.max, clip: c });
    }
    return out;
  }
}

export function binValues(v: ArrayLike<number>, lo: number, hi: number, bins: number): number[] {
  const counts = new Array<number>(bins).fill(0);
  const w = (hi - lo) / bins;
  for (let i = 0; i < v.length; i++) {
    const b = Math.floor((v[i] - lo) / w);
    counts[b < 0 ? 0 : b >= bins ? bins - 1 : b]++;
  }
  return counts;
}
