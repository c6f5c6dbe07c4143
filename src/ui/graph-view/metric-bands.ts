/**
 * Fixed, documented colour bands for the per-layer metrics (docs/graph-viewer.md): a layer is coloured by how good
 * its value is, not by where it falls between the model's best and worst layer, so a healthy model's worst layer
 * is not alarm red. Each band's colour carries dark text (contrast above 7:1). Pure.
 */
import type { AnalysisMetric, Metric } from '../store/graph-slice.ts';

export type BandName = 'healthy' | 'fair' | 'poor' | 'bad';
export interface Band { name: BandName; color: string; range: string }

/** Band limits, best first: a value at or past limits[i] (above for higher-is-better) is in band i. */
export const METRIC_THRESHOLDS: Record<Metric, { limits: [number, number, number]; higherIsBetter: boolean; unit: string }> = {
  // SQNR = 10·log10(signal power / error power): 40 dB ≈ error rms 1 % of the signal, 30 dB ≈ 3 %, 20 dB ≈ 10 %.
  sqnr: { limits: [40, 30, 20], higherIsBetter: true, unit: ' dB' },
  cosine: { limits: [0.9999, 0.999, 0.99], higherIsBetter: true, unit: '' },
  // Largest difference from the fake-quant model, in steps of the output's scale: 1 LSB is rounding.
  maxLsb: { limits: [1, 2, 4], higherIsBetter: false, unit: ' LSB' },
};

export const BAND_COLORS: Record<BandName, string> = { healthy: '#8fd19e', fair: '#d9ef8b', poor: '#fdc877', bad: '#f4978e' };
/** Dark text on every band colour. */
export const BAND_TEXT = '#1c2330';
const NAMES: BandName[] = ['healthy', 'fair', 'poor', 'bad'];

/** The analysis overlays measure the same quantities as the deployment check's, so they share its bands. */
const BASE: Record<Metric | AnalysisMetric, Metric> = { cosine: 'cosine', sqnr: 'sqnr', maxLsb: 'maxLsb', analysisCosine: 'cosine', analysisSqnr: 'sqnr' };

export function bandOf(metric: Metric | AnalysisMetric, v: number): BandName {
  const t = METRIC_THRESHOLDS[BASE[metric]];
  const ok = (lim: number) => (t.higherIsBetter ? v >= lim : v <= lim);
  const i = t.limits.findIndex(ok);
  return NAMES[i < 0 ? 3 : i];
}

/** The bands of a metric with their ranges in words, best first. */
export function bandsOf(metric: Metric | AnalysisMetric): Band[] {
  const { limits: [a, b, c], higherIsBetter, unit } = METRIC_THRESHOLDS[BASE[metric]];
  const r = higherIsBetter
    ? [`≥ ${a}${unit}`, `${b} – ${a}${unit}`, `${c} – ${b}${unit}`, `< ${c}${unit}`]
    : [`≤ ${a}${unit}`, `${a} – ${b}${unit}`, `${b} – ${c}${unit}`, `> ${c}${unit}`];
  return NAMES.map((name, i) => ({ name, color: BAND_COLORS[name], range: r[i] }));
}
