/**
 * The JSON form of an analysis, one source for the CLI's report.json section {"analyze": {...}} and the page's
 * stored result: finite numbers only (an exact match's SQNR of Infinity becomes null), per-channel weight details cut
 * down to the worst channels, and the binding to the model and data the figures belong to.
 */
import type { BadCaseResult } from './bad-cases.ts';
import { finiteOrNull, type DistanceMetric } from './distance.ts';
import type { LayerComparison } from './layer-stats.ts';
import type { MixedPrecisionPoint } from './mixed-precision.ts';
import type { SensitivityResult } from './sensitivity.ts';
import type { WeightComparison } from './weight-compare.ts';

/** What every analysis result belongs to: it is never shown or reused with another model or data set. */
export interface AnalysisBinding {
  model: string;
  data: string;
  /** The quantized checkpoint analysed ('calib' or 'qat'). */
  checkpoint: string;
  images: number;
}

export interface SensitivityRow {
  site: string;
  kind: 'activation' | 'weight';
  /** The ranking figure: the output distance with only this site quantized. */
  metric: number | null;
  metric_name: DistanceMetric;
  distance_only_this_quantized: number | null;
  distance_only_this_float: number | null;
  acc1_only_this_quantized: number;
  acc1_only_this_float: number;
}

export type LayerRow = Omit<LayerComparison, 'sqnr_db'> & { sqnr_db: number | null };

export interface AnalyzeReport extends AnalysisBinding {
  compare: [string, string];
  metric: DistanceMetric;
  /**
   * The outputs compared (several: the distances are their normalised mean, outputs.ts); class_scores marks the one
   * top-1 is taken on. Absent from analyses stored before several outputs existed (one output of class scores).
   */
  outputs?: { name: string; shape: number[]; class_scores: boolean }[];
  bad_cases: { index: number; label: number; label_name: string; pred_a: number; pred_b: number; disagree: boolean; distance: number | null }[];
  agreement_top1?: number;
  acc1?: Record<string, number>;
  layers: LayerRow[];
  layers_on?: string;
  layer_images?: number;
  sensitivity: SensitivityRow[];
  sensitivity_summary?: { acc1_float: number; acc1_quantized: number; distance_quantized: number | null; images: number; seconds: number };
  mixed_precision?: (Omit<MixedPrecisionPoint, 'distance'> & { distance: number | null })[];
  march?: string;
  weights?: (Omit<WeightComparison, 'per_channel' | 'sqnr_db'> & { sqnr_db: number | null; scales: number[]; worst: WeightComparison['per_channel'] })[];
}

export function badCasesForReport(r: BadCaseResult, classNames: readonly string[]): AnalyzeReport['bad_cases'] {
  // label -1: an image without a label
  return r.worst.map((c) => ({ ...c, label_name: c.label < 0 ? '' : classNames[c.label] ?? String(c.label), distance: finiteOrNull(c.distance) }));
}

export function layersForReport(ls: LayerComparison[]): LayerRow[] {
  return ls.map((l) => ({ ...l, sqnr_db: finiteOrNull(l.sqnr_db) }));
}

export function sensitivityForReport(r: SensitivityResult): SensitivityRow[] {
  return r.ranking.map((e) => ({
    site: e.site, kind: e.kind, metric: finiteOrNull(e.distance_only_this_quantized), metric_name: e.metric,
    distance_only_this_quantized: finiteOrNull(e.distance_only_this_quantized), distance_only_this_float: finiteOrNull(e.distance_only_this_float),
    acc1_only_this_quantized: e.acc1_only_this_quantized, acc1_only_this_float: e.acc1_only_this_float,
  }));
}

export function mixedForReport(ps: MixedPrecisionPoint[]): NonNullable<AnalyzeReport['mixed_precision']> {
  return ps.map((p) => ({ ...p, distance: finiteOrNull(p.distance) }));
}

export function weightsForReport(ws: WeightComparison[]): NonNullable<AnalyzeReport['weights']> {
  return ws.map(({ per_channel, sqnr_db, ...w }) => ({
    ...w, sqnr_db: finiteOrNull(sqnr_db), scales: per_channel.map((c) => c.scale),
    worst: w.worst_channels.map((i) => per_channel[i]),
  }));
}

/** The sensitivity ranking of a stored analysis, checked to belong to `model` (what `calib --int16-top K` reads). */
export function rankingFor(analyze: unknown, model: string, where: string): SensitivityRow[] {
  const a = analyze as Partial<AnalyzeReport> | undefined;
  if (!a || !Array.isArray(a.sensitivity)) throw new Error(`${where}: no "analyze.sensitivity" ranking; run the analyze stage first`);
  if (a.model !== model) throw new Error(`${where}: the sensitivity ranking is of model ${a.model}, not ${model}; run analyze on this model first`);
  if (!a.sensitivity.length) throw new Error(`${where}: the sensitivity ranking is empty`);
  return a.sensitivity;
}
