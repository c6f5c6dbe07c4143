/**
 * Precision analysis as jobs of the training worker, on the kept models and the loaded data (like the CLI's
 * `analyze` stage, src/cli/stages/analyze.ts): the analysis itself, and the "int16 for the top K sites" check, which
 * recalibrates the kept model with those sites in int16 (every other site keeps its kept scale) and evaluates it.
 */
import type { Backend } from '../engine/backend.ts';
import { fitsClasses, imageAt, randomSubset } from '../data/dataset.ts';
import { fuse } from '../graph/passes/fuse.ts';
import { ParamStore } from '../nn/params.ts';
import { calibrate } from '../quant/calibrate.ts';
import { prepare } from '../quant/prepare.ts';
import { QuantizedModel } from '../quant/quantized-model.ts';
import { withInt16Sites } from '../quant/analysis/int16-sites.ts';
import { runAnalysis } from '../quant/analysis/run-analysis.ts';
import { analysedOutputs, outputsDistance } from '../quant/analysis/outputs.ts';
import { collectBatches, engineOutputs, engineStage, passOutputs, type SiteGrid, type StageRunner } from '../quant/analysis/stage-runner.ts';
import { evaluate } from './evaluate.ts';
import type { AnalysisJobConfig, AnalysisResult, Int16JobConfig, Int16Result } from './analysis-protocol.ts';
import type { FloatState, JobContext, JobData, QuantState } from './quant-jobs.ts';

export interface KeptModels { float: FloatState | null; calib: QuantState | null; qat: QuantState | null }

function need<T>(x: T | null, what: string): T {
  if (!x) throw new Error(what);
  return x;
}

function quantModel(be: Backend, q: QuantState): QuantizedModel {
  const qm = new QuantizedModel(be, prepare(q.graph, q.qconfig), new ParamStore(be, q.graph, q.params));
  qm.loadHost(q.qsites);
  qm.setState('VALIDATION');
  return qm;
}

async function runnerOf(name: 'calib' | 'qat', be: Backend, qm: QuantizedModel): Promise<StageRunner> {
  const { activations } = await qm.scales();
  const grids = new Map<string, SiteGrid>();
  for (const a of qm.plan.acts) if (activations[a.node] !== undefined) grids.set(a.node, { scale: activations[a.node], quantMin: a.quantMin, quantMax: a.quantMax });
  return engineStage(name, be, qm.plan.graph, qm.store, qm.hooks, grids);
}

function checkData(model: string, inputShape: number[], numClasses: number, data: JobData): void {
  const have = [data.test.channels, data.test.height, data.test.width].join('x');
  if (inputShape.join('x') !== have || !fitsClasses(numClasses, data.test)) {
    throw new Error(`${model} takes ${inputShape.join('x')} inputs with ${numClasses} classes; the loaded data is ${have} with ${data.test.numClasses}`);
  }
}

export async function runAnalysisJob(ctx: JobContext, kept: KeptModels, data: JobData, cfg: AnalysisJobConfig): Promise<AnalysisResult> {
  const start = performance.now();
  const [aName, bName] = cfg.compare.split('-') as ['float' | 'calib', 'calib' | 'qat'];
  const q = need(kept[bName], bName === 'qat' ? 'no QAT model: run QAT first' : 'no calibrated model: calibrate first');
  checkData(q.model, q.graph.inputShape, q.graph.numClasses, data);
  const disposers: (() => void)[] = [];
  try {
    const qm = quantModel(ctx.be, q);
    disposers.push(() => { qm.store.dispose(); qm.dispose(); });
    let a: StageRunner;
    if (aName === 'float') {
      const float = need(kept.float, 'no float model: train the float model first');
      if (float.model !== q.model) throw new Error(`the float model (${float.model}) is not the one the ${bName} model was made from (${q.model})`);
      const f = fuse(float.graph, float.host);
      const store = new ParamStore(ctx.be, f.graph, f.host);
      disposers.push(() => store.dispose());
      a = engineStage('float', ctx.be, f.graph, store, undefined);
    } else {
      const c = need(kept.calib, 'no calibrated model: calibrate first');
      const cm = quantModel(ctx.be, c);
      disposers.push(() => { cm.store.dispose(); cm.dispose(); });
      a = await runnerOf('calib', ctx.be, cm);
    }
    const b = await runnerOf(bName, ctx.be, qm);
    const test = randomSubset(data.test, Math.max(1, Math.min(cfg.images, data.test.count)), 0);
    const out = await runAnalysis({
      be: ctx.be, qm, a, b, test, train: data.train, normalize: data.normalize, binding: { model: q.model, data: data.test.name, checkpoint: bName },
    }, {
      metric: cfg.metric, badCases: cfg.badCases, layersOn: 'batch', layerImages: Math.min(256, test.count), batchSize: cfg.batchSize,
      sensitivity: cfg.sensitivity, mixedPrecision: cfg.sensitivity && cfg.mixedPrecision, calibImages: cfg.calibImages,
    }, {
      signal: ctx.signal,
      onProgress: (phase, done, total) => ctx.post({ type: 'analysis-progress', phase, done, total }),
    });
    return {
      report: out.report, classNames: [...test.classNames], dataName: data.test.name, seconds: (performance.now() - start) / 1000,
      images: { shape: [test.channels, test.height, test.width], pixels: out.report.bad_cases.map((c) => imageAt(test, c.index).slice()) },
    };
  } finally {
    for (const d of disposers.reverse()) d();
  }
}

export async function runInt16Job(ctx: JobContext, kept: KeptModels, data: JobData, cfg: Int16JobConfig): Promise<Int16Result> {
  const q = need(kept[cfg.stage], cfg.stage === 'qat' ? 'no QAT model: run QAT first' : 'no calibrated model: calibrate first');
  checkData(q.model, q.graph.inputShape, q.graph.numClasses, data);
  const base = quantModel(ctx.be, q);
  // The same parameters with the chosen sites in int16: those sites recalibrated, every other one as kept.
  const wide = new QuantizedModel(ctx.be, prepare(q.graph, withInt16Sites(q.qconfig, cfg.sites)), base.store);
  try {
    const calibDs = randomSubset(data.train, Math.max(1, Math.min(cfg.calibImages, data.train.count)), 1);
    const total = Math.ceil(calibDs.count / cfg.batchSize) + 6;
    let done = 0;
    const tick = () => ctx.post({ type: 'analysis-progress', phase: 'int16 check', done: ++done, total });
    await calibrate(wide, calibDs, { batchSize: cfg.batchSize, normalize: data.normalize, signal: ctx.signal, onProgress: tick });
    const chosen = new Set(cfg.sites.filter((s) => s.kind === 'activation').map((s) => s.site));
    wide.loadHost(Object.fromEntries(Object.entries(q.qsites).filter(([k]) => !chosen.has(k.replace(/^qsite:(.*):(qparams|running)$/, '$1')))));
    const test = randomSubset(data.test, Math.max(1, Math.min(cfg.images, data.test.count)), 0);
    const ev = async (hooks?: QuantizedModel['hooks']) => {
      const r = (await evaluate(ctx.be, q.graph, base.store, test, { hooks, normalize: data.normalize, signal: ctx.signal, batchSize: cfg.batchSize })).acc1;
      tick();
      return r;
    };
    // the output distance to the float model: the figure when there are no labels or no class scores
    const outs = analysedOutputs(q.graph), batches = collectBatches(test, cfg.batchSize, data.normalize);
    const pass = async (hooks?: QuantizedModel['hooks']) => {
      const r = await passOutputs(batches, outs, (b) => engineOutputs(ctx.be, q.graph, base.store, hooks, b), { signal: ctx.signal });
      tick();
      return r;
    };
    const ref = await pass(undefined), before = await pass(base.hooks), after = await pass(wide.hooks);
    return {
      sites: cfg.sites, acc1_float: await ev(undefined), acc1_before: await ev(base.hooks), acc1_after: await ev(wide.hooks),
      sqnr_before: outputsDistance('sqnr', outs, ref, before, test.count), sqnr_after: outputsDistance('sqnr', outs, ref, after, test.count),
      images: test.count, model: q.model, dataName: data.test.name,
    };
  } finally {
    wide.dispose();
    base.store.dispose();
    base.dispose();
  }
}
