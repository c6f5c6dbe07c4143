/**
 * The training worker's precision-analysis messages (part of protocol.ts's unions).
 *
 * Page -> worker:
 *   analyze {config}         the analysis (src/quant/analysis/run-analysis.ts) of the kept calibrated or QAT model
 *                            against the kept float model (or calib vs QAT) on `images` test images of the loaded data
 *   analysis-int16 {config}  calibrate the same model again with the given sites in int16 (the other sites as the
 *                            kept calibration has them) and evaluate it on the same images: the "int16 for top K" check
 * Worker -> page:
 *   analysis-progress {phase, done, total}
 *   analysis-done {result} / analysis-int16-done {result} / analysis-cancelled / analysis-error {message}
 */
import type { DistanceMetric } from '../quant/analysis/distance.ts';
import type { AnalyzeReport } from '../quant/analysis/report.ts';
import type { AnalysisPhase } from '../quant/analysis/run-analysis.ts';
import type { SiteRef } from '../quant/analysis/site-precision.ts';

export type AnalysisCompare = 'float-calib' | 'float-qat' | 'calib-qat';

export interface AnalysisJobConfig {
  compare: AnalysisCompare;
  metric: DistanceMetric;
  /** Test images (a seed-0 random subset of the loaded test split). */
  images: number;
  badCases: number;
  batchSize: number;
  sensitivity: boolean;
  mixedPrecision: boolean;
  /** Train images for the int16 calibration of the mixed-precision curve. */
  calibImages: number;
}

export interface AnalysisResult {
  report: AnalyzeReport;
  /** The bad cases' pixels (uint8, C×H×W each), in report.bad_cases order. */
  images: { shape: [number, number, number]; pixels: Uint8Array[] };
  classNames: string[];
  /** The data the figures belong to (the loaded data's name) and the checkpoint they were made from. */
  dataName: string;
  seconds: number;
}

export interface Int16JobConfig {
  /** The quantized model to start from (its float weights and calibration settings). */
  stage: 'calib' | 'qat';
  sites: SiteRef[];
  images: number;
  batchSize: number;
  calibImages: number;
}

export interface Int16Result {
  sites: SiteRef[];
  /** Accuracy (%) of the kept model and of the model with those sites in int16, on the same images. */
  acc1_before: number;
  acc1_after: number;
  acc1_float: number;
  /**
   * Output SQNR (dB) to the float model before and after, over every output (outputs.ts: normalised per output);
   * the figure without labels or without an output of class scores. Absent from results of older versions.
   */
  sqnr_before?: number;
  sqnr_after?: number;
  images: number;
  model: string;
  dataName: string;
}

export type AnalysisRequest =
  | { type: 'analyze'; config: AnalysisJobConfig }
  | { type: 'analysis-int16'; config: Int16JobConfig };

export type AnalysisMessage =
  | { type: 'analysis-progress'; phase: AnalysisPhase | 'int16 check'; done: number; total: number }
  | { type: 'analysis-done'; result: AnalysisResult }
  | { type: 'analysis-int16-done'; result: Int16Result }
  | { type: 'analysis-cancelled' }
  | { type: 'analysis-error'; message: string };

export const ANALYSIS_REQUEST_TYPES = ['analyze', 'analysis-int16'] as const satisfies readonly AnalysisRequest['type'][];
export const ANALYSIS_MESSAGE_TYPES = [
  'analysis-progress', 'analysis-done', 'analysis-int16-done', 'analysis-cancelled', 'analysis-error',
] as const satisfies readonly AnalysisMessage['type'][];

export const ANALYSIS_LIMITS = { images: [1, 10_000], badCases: [1, 200], batchSize: [1, 256], calibImages: [1, 60_000] } as const;
