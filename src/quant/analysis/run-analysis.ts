/**
 * The whole analysis in one call, shared by the CLI's `analyze` stage and the training worker's analysis job: bad
 * cases, layer comparison, weight comparison, sensitivity and the int16 mixed-precision curve, with progress per
 * phase and cancel, returning the report form (report.ts) with the model and data it belongs to.
 */
import type { Backend } from '../../engine/backend.ts';
import { randomSubset, subset, type ImageDataset } from '../../data/dataset.ts';
import type { Normalization } from '../../data/loader.ts';
import { calibrate } from '../calibrate.ts';
import { prepare } from '../prepare.ts';
import { QuantizedModel } from '../quantized-model.ts';
import { findBadCases, type BadCaseResult } from './bad-cases.ts';
import type { DistanceMetric } from './distance.ts';
import { allInt16 } from './int16-sites.ts';
import { analysedOutputs } from './outputs.ts';
import { compareLayers } from './layer-compare.ts';
import type { LayerComparison } from './layer-stats.ts';
import { mixedPrecisionCurve, type MixedPrecisionPoint } from './mixed-precision.ts';
import { badCasesForReport, layersForReport, mixedForReport, sensitivityForReport, weightsForReport, type AnalysisBinding, type AnalyzeReport } from './report.ts';
import { sensitivity, type SensitivityResult } from './sensitivity.ts';
import { collectBatches, type StageRunner } from './stage-runner.ts';
import { compareWeights } from './weight-compare.ts';

export const ANALYSIS_PHASES = ['bad cases', 'layers', 'sensitivity', 'int16 calibration', 'mixed precision'] as const;
export type AnalysisPhase = (typeof ANALYSIS_PHASES)[number];

export interface AnalyzeSettings {
  metric: DistanceMetric;
  badCases: number;
  layersOn: 'batch' | 'bad-cases';
  layerImages: number;
  batchSize: number;
  sensitivity: boolean;
  mixedPrecision: boolean;
  calibImages: number;
}

export interface AnalyzeInputs {
  be: Backend;
  /** The fake-quant model the sensitivity pass perturbs (VALIDATION state). */
  qm: QuantizedModel;
  a: StageRunner;
  b: StageRunner;
  test: ImageDataset;
  /** Calibration images for the int16 scales of the mixed-precision curve. */
  train: ImageDataset;
  normalize: Normalization;
  binding: Omit<AnalysisBinding, 'images'>;
}

export interface AnalyzeHooks {
  signal?: AbortSignal;
  onProgress?: (phase: AnalysisPhase, done: number, total: number) => void;
}

export interface AnalyzeOutcome {
  report: AnalyzeReport;
  bad: BadCaseResult;
  layers: LayerComparison[];
  sensitivity: SensitivityResult | null;
  curve: MixedPrecisionPoint[] | null;
  /** Seconds per phase. */
  seconds: Partial<Record<AnalysisPhase, number>>;
}

export async function runAnalysis(x: AnalyzeInputs, s: AnalyzeSettings, h: AnalyzeHooks = {}): Promise<AnalyzeOutcome> {
  const { be, qm, a, b, test } = x;
  const outs = analysedOutputs(qm.plan.graph);
  const batches = collectBatches(test, s.batchSize, x.normalize);
  const seconds: AnalyzeOutcome['seconds'] = {};
  const phase = (p: AnalysisPhase, total: number) => {
    let done = 0;
    h.onProgress?.(p, 0, total);
    return { signal: h.signal, onBatch: () => h.onProgress?.(p, ++done, total) };
  };
  const timed = async <T>(p: AnalysisPhase, f: () => Promise<T>): Promise<T> => {
    const t = performance.now();
    const r = await f();
    seconds[p] = (performance.now() - t) / 1000;
    return r;
  };

  const bad = await timed('bad cases', () => findBadCases(batches, outs, a, b, s.metric, s.badCases, phase('bad cases', batches.length)));
  const layerDs = s.layersOn === 'bad-cases' ? subset(test, bad.worst.map((c) => c.index)) : randomSubset(test, Math.min(s.layerImages, test.count), 0);
  const layerBatches = collectBatches(layerDs, s.batchSize, x.normalize);
  const layers = await timed('layers', () => compareLayers(layerBatches, qm.plan, a, b, phase('layers', layerBatches.length)));
  const report: AnalyzeReport = {
    ...x.binding, images: test.count, compare: [a.name, b.name], metric: s.metric,
    outputs: outs.map((o) => ({ name: o.name, shape: o.shape, class_scores: o.classScores })),
    bad_cases: badCasesForReport(bad, test.classNames), agreement_top1: bad.agreement_top1, acc1: { [a.name]: bad.acc1_a, [b.name]: bad.acc1_b },
    layers: layersForReport(layers), layers_on: s.layersOn, layer_images: layerDs.count, sensitivity: [],
    weights: weightsForReport(compareWeights(qm.plan, await qm.store.toHost())),
  };
  let sens: SensitivityResult | null = null, curve: MixedPrecisionPoint[] | null = null;
  if (s.sensitivity) {
    const sites = qm.plan.acts.length + qm.plan.weights.length;
    sens = await timed('sensitivity', () => sensitivity(be, qm, batches, s.metric, phase('sensitivity', batches.length * (2 + 2 * sites))));
    report.sensitivity = sensitivityForReport(sens);
    report.sensitivity_summary = {
      acc1_float: sens.acc1_float, acc1_quantized: sens.acc1_quantized, images: sens.images, seconds: sens.seconds,
      distance_quantized: Number.isFinite(sens.distance_quantized) ? sens.distance_quantized : null,
    };
    if (s.mixedPrecision) {
      const q16 = new QuantizedModel(be, prepare(qm.plan.graph, allInt16(qm.plan.qconfig)), qm.store);
      try {
        const calibDs = randomSubset(x.train, Math.min(s.calibImages, x.train.count), 1);
        const calBatches = Math.ceil(calibDs.count / s.batchSize);
        await timed('int16 calibration', async () => {
          const p = phase('int16 calibration', calBatches);
          await calibrate(q16, calibDs, { batchSize: s.batchSize, normalize: x.normalize, signal: h.signal, onProgress: () => p.onBatch() });
        });
        const ranking = sens.ranking.map((e) => ({ site: e.site, kind: e.kind }));
        curve = await timed('mixed precision', () => mixedPrecisionCurve(be, qm, q16, batches, ranking, s.metric, qm.plan.qconfig.march,
          phase('mixed precision', batches.length * (ranking.length + 2))));
        report.mixed_precision = mixedForReport(curve);
        report.march = qm.plan.qconfig.march;
      } finally {
        q16.dispose();
      }
    }
  }
  return { report, bad, layers, sensitivity: sens, curve, seconds };
}
