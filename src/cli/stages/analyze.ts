/**
 * Stage `analyze`: precision debugging of a quantized model (issue 13). On the test images (or --test-subset):
 *  - bad cases: per image the --metric distance of stage B's output to stage A's (--compare A,B, stages float, calib,
 *    qat, sim; default float and the latest fake-quant checkpoint) and top-1 disagreement; the worst --bad-cases N;
 *  - layers: A against B at every activation site and int32 output (--layers-on batch: the first --layer-images
 *    images; bad-cases: the worst images);
 *  - weights: per conv / linear layer the float weights against their fake-quantized values;
 *  - sensitivity (unless --no-sensitivity): per site, only it quantized / only it float, ranked worst first;
 *  - mixed precision (unless --no-mixed-precision): accuracy and estimated latency of int16 for the top k sites.
 * Merges {"analyze": {...}} into DIR/report.json; `calib --int16-top K` reads its ranking.
 */
import { dataShapeOf } from '../model-source.ts';
import { createNodeBackend } from '../../engine/create-node-backend.ts';
import { DISTANCE_METRICS, formatDistance, isDistanceMetric, type DistanceMetric } from '../../quant/analysis/distance.ts';
import { runAnalysis } from '../../quant/analysis/run-analysis.ts';
import { STAGE_NAMES, type StageName } from '../../quant/analysis/stage-runner.ts';
import { loadStageData } from '../data.ts';
import { UsageError } from '../options.ts';
import { mergeReport } from '../report.ts';
import { AnalyzeSources } from '../analyze-sources.ts';
import { printLayers, printSensitivity } from '../analyze-print.ts';
import { parseQuant, stageNormalization, type QuantOptions } from './quant-common.ts';

export const ANALYZE_OPTIONS = {
  compare: { type: 'string' }, metric: { type: 'string' }, 'bad-cases': { type: 'string' }, 'layers-on': { type: 'string' },
  'layer-images': { type: 'string' }, 'no-sensitivity': { type: 'boolean' }, 'no-mixed-precision': { type: 'boolean' },
} as const;

const fmt = (x: number) => x.toFixed(2);

function positive(name: string, v: string | undefined, fallback: number): number {
  if (v === undefined) return fallback;
  const x = Number(v);
  if (!Number.isInteger(x) || x < 1) throw new UsageError(`--${name} must be a positive integer, got "${v}"`);
  return x;
}

export interface AnalyzeOptions {
  o: QuantOptions;
  metric: DistanceMetric;
  topN: number;
  layerImages: number;
  layersOn: 'batch' | 'bad-cases';
  /** null: float against the deployed (qat, else calib) checkpoint. */
  compare: [StageName, StageName] | null;
  sensitivity: boolean;
  mixedPrecision: boolean;
}

/** The analyze stage's options, every value checked before any data is loaded. */
export function parseAnalyze(argv: string[]): AnalyzeOptions {
  const o = parseQuant(argv, 'default_calibration', ANALYZE_OPTIONS);
  const r = o.rest as Record<string, string | boolean | undefined>;
  const metric = (r.metric as string | undefined) ?? 'cosine';
  if (!isDistanceMetric(metric)) throw new UsageError(`--metric must be one of ${DISTANCE_METRICS.join('|')}, got "${metric}"`);
  const layersOn = (r['layers-on'] as string | undefined) ?? 'batch';
  if (layersOn !== 'batch' && layersOn !== 'bad-cases') throw new UsageError(`--layers-on must be batch|bad-cases, got "${layersOn}"`);
  let compare: [StageName, StageName] | null = null;
  if (r.compare !== undefined) {
    const c = String(r.compare).split(',').map((s) => s.trim());
    if (c.length !== 2 || c[0] === c[1] || !c.every((s) => (STAGE_NAMES as readonly string[]).includes(s))) {
      throw new UsageError(`--compare must be two different stages of ${STAGE_NAMES.join('|')}, e.g. float,calib; got "${r.compare}"`);
    }
    compare = c as [StageName, StageName];
  }
  return {
    o, metric, layersOn, compare,
    topN: positive('bad-cases', r['bad-cases'] as string | undefined, 20),
    layerImages: positive('layer-images', r['layer-images'] as string | undefined, 256),
    sensitivity: !r['no-sensitivity'], mixedPrecision: !r['no-mixed-precision'],
  };
}

export async function runAnalyze(argv: string[]): Promise<void> {
  const { o, metric, topN, layerImages, layersOn, compare, sensitivity: withSensitivity, mixedPrecision } = parseAnalyze(argv);
  const data = await loadStageData(o.data, o.subset, o.testSubset, o.resize, o.unlabelled);
  const be = await createNodeBackend(o.backend, o.gpu);
  console.log(`Backend: ${be.kind} on ${be.adapter}`);
  const src = new AnalyzeSources(be, o, dataShapeOf(data));
  const t0 = performance.now();
  const secs = (t: number) => (performance.now() - t) / 1000;
  try {
    const deploy = await src.deployStage();
    const [a, b] = compare ?? ['float', deploy];
    // The fake-quant model the sensitivity pass perturbs: the compared calib/qat stage, else the deployed one.
    const qStage = b === 'calib' || b === 'qat' ? b : a === 'calib' || a === 'qat' ? a : deploy;
    const { ck, qm } = await src.quantizedModel(qStage);
    const normalization = src.normalization(ck, await stageNormalization(o, dataShapeOf(data)));
    const ds = data.test;
    console.log(`Analysing ${ck.model} (${qStage}-checkpoint, ${qm.plan.acts.length} activation and ${qm.plan.weights.length} weight sites) ` +
      `on ${ds.count} images of ${o.data}: ${a} vs ${b}, metric ${metric}`);
    const ra = await src.runner(a), rb = await src.runner(b);
    let last = '', lastAt = 0;
    const out = await runAnalysis({
      be, qm, a: ra, b: rb, test: ds, train: data.train, normalize: normalization, binding: { model: ck.model, data: o.data, checkpoint: qStage },
    }, {
      metric, badCases: topN, layersOn, layerImages, batchSize: Math.min(o.batchSize, 256), sensitivity: withSensitivity,
      mixedPrecision, calibImages: o.calibImages,
    }, {
      onProgress: (phase, done, total) => {
        const line = `Analysis: ${phase} [${done}/${total}]`;
        // every phase's start and end, and a line every 5 s in between
        if (done === 0 || done === total || phase !== last || Date.now() - lastAt > 5000) {
          process.stderr.write(line + '\n');
          lastAt = Date.now();
        }
        last = phase;
      },
    });
    const { bad, layers, sensitivity: sens, curve, seconds } = out;
    const t = (p: keyof typeof seconds) => `${(seconds[p] ?? 0).toFixed(1)} s`;
    if (out.report.outputs && out.report.outputs.length > 1) console.log(`Outputs: ${out.report.outputs.map((x) => `${x.name} ${x.shape.join('x')}`).join(', ')}; ${metric} is their mean, normalised per output`);
    if (Number.isFinite(bad.agreement_top1)) {
      console.log(`Bad cases (${t('bad cases')}): Acc@1 ${a} ${fmt(bad.acc1_a)} ${b} ${fmt(bad.acc1_b)}, top-1 agreement ${fmt(bad.agreement_top1)} %; worst ${bad.worst.length}:`);
      for (const c of bad.worst.slice(0, 10)) {
        console.log(`  image ${c.index} label ${ds.classNames[c.label] ?? c.label}: ${a} ${ds.classNames[c.pred_a] ?? c.pred_a}, ${b} ${ds.classNames[c.pred_b] ?? c.pred_b}, ${metric} ${formatDistance(metric, c.distance)}`);
      }
    } else {
      // no output of class scores (a detector, a segmenter, a feature pyramid): distances only
      console.log(`Bad cases (${t('bad cases')}, no output of class scores: distances only); worst ${bad.worst.length}:`);
      for (const c of bad.worst.slice(0, 10)) console.log(`  image ${c.index}: ${metric} ${formatDistance(metric, c.distance)}`);
    }
    console.log(`Layers, ${a} vs ${b} on ${out.report.layer_images} images (${layersOn}; ${t('layers')}):`);
    printLayers(layers);
    if (sens) {
      console.log(`Sensitivity of ${sens.ranking.length} sites on ${sens.images} images: ${sens.seconds.toFixed(1)} s ` +
        (Number.isFinite(sens.acc1_float) ? `(float Acc@1 ${fmt(sens.acc1_float)}, quantized ${fmt(sens.acc1_quantized)})` : `(${metric} quantized ${formatDistance(metric, sens.distance_quantized)})`) + '; worst first:');
      printSensitivity(sens.ranking);
    }
    if (curve) {
      console.log(`Mixed precision, int16 for the top k sites (int16 calibration ${t('int16 calibration')}, curve ${t('mixed precision')}; latency: estimate on ${qm.plan.qconfig.march}):`);
      for (const p of curve) console.log(`  k=${p.k}: ${Number.isFinite(p.acc1) ? `Acc@1 ${fmt(p.acc1)} ` : ''}${metric} ${formatDistance(metric, p.distance)} latency ${p.latency_ms.toFixed(4)} ms`);
    }
    const report = { ...out.report, phase_seconds: seconds };
    await mergeReport(o.modelPath, 'analyze', { ...report, seconds: secs(t0), backend: be.kind, adapter: be.adapter });
    console.log(`Analysis merged into ${o.modelPath}/report.json (${secs(t0).toFixed(1)} s)`);
  } finally {
    src.dispose();
    be.dispose();
  }
}
