/**
 * Calibration and QAT as jobs of the training worker, wired like the CLI stages (src/cli/stages/calib.ts,
 * qat.ts) but on the loaded data, with progress messages, cancel, activation histograms, and the
 * results kept as host copies (weights and qsites) so the next job starts from them.
 */
import type { Backend } from '../engine/backend.ts';
import { fitsClasses, randomSubset, type ImageDataset } from '../data/dataset.ts';
import { outputSimilarity, type ModelRun, type OutputSimilarity } from '../quant/output-similarity.ts';
import { checkDistill, distillStepFn } from './distill.ts';
import { batchCount, type Normalization } from '../data/loader.ts';
import { fuse } from '../graph/passes/fuse.ts';
import type { Graph } from '../graph/ir.ts';
import { ParamStore, type HostParams } from '../nn/params.ts';
import { isMarch } from '../qmath/march.ts';
import { prepare } from '../quant/prepare.ts';
import { qconfigTemplate, type QConfig } from '../quant/qconfig.ts';
import { QuantizedModel } from '../quant/quantized-model.ts';
import { encodeQuantCheckpoint } from '../quant/quant-checkpoint.ts';
import { evaluate } from './evaluate.ts';
import { ActHistogramCollector } from './act-histograms.ts';
import { finishHistograms, histogramPass } from './histogram-pass.ts';
import { Cancelled, train } from './trainer.ts';
import type { ResultScope, WorkerMessage } from './protocol.ts';
import { runPtq } from './ptq-job.ts';
import type { CalibJobConfig, QatJobConfig, QuantSettings, QuantStage } from './quant-protocol.ts';

/** The trained float model the worker keeps between runs (unfused graph + weights), and the model and data it belongs to. */
export interface FloatState { model: string; graph: Graph; host: HostParams; scope?: ResultScope }
/** A calibrated or QAT-trained model (fused graph, weights, activation qsites); its scope is its float model's. */
export interface QuantState { model: string; stage: QuantStage; graph: Graph; params: HostParams; qsites: HostParams; qconfig: QConfig; scope?: ResultScope }
export interface JobData { train: ImageDataset; test: ImageDataset; normalize: Normalization }
export interface JobContext { be: Backend; post(m: WorkerMessage): void; signal: AbortSignal }

export function makeQConfig(q: QuantSettings): QConfig {
  if (!isMarch(q.march)) throw new Error(`unknown march "${q.march}"`);
  return qconfigTemplate(q.template, {
    march: q.march, observer: q.observer ?? undefined, overrides: q.overrides, quantStubScale: q.quantStubScale, weightBits: q.weightBits,
  });
}

function build(be: Backend, graph: Graph, host: HostParams, qc: QConfig, qsites: HostParams = {}): QuantizedModel {
  const qm = new QuantizedModel(be, prepare(graph, qc), new ParamStore(be, graph, host));
  qm.loadHost(qsites);
  return qm;
}

export function checkShape(float: FloatState, data: JobData): void {
  const want = float.graph.inputShape.join('x');
  const have = [data.train.channels, data.train.height, data.train.width].join('x');
  if (want !== have || !fitsClasses(float.graph.numClasses, data.train)) {
    throw new Error(`the float model was trained on ${want} inputs with ${float.graph.numClasses} classes; the loaded data is ${have} ` +
      `with ${data.train.numClasses}: train the float model on this data first`);
  }
}

export async function finish(ctx: JobContext, qm: QuantizedModel, float: FloatState, stage: QuantStage, meta: Record<string, unknown>): Promise<QuantState> {
  const scope = float.scope;
  const state: QuantState = {
    model: float.model, stage, graph: qm.plan.graph, params: await qm.store.toHost(), qsites: await qm.toHost(), qconfig: qm.plan.qconfig,
    ...(scope ? { scope } : {}),
  };
  const { scope: _s, ...rest } = state;
  ctx.post({ type: 'checkpoint', stage, bytes: encodeQuantCheckpoint({ ...rest, meta: { ...meta, ...(scope ? { scope } : {}) } }), ...(scope ? { scope } : {}) });
  return state;
}

/** Runs `f` with the float model (the fused float weights on the quantized model's graph, no hooks) as a teacher. */
async function withTeacher<T>(ctx: JobContext, qm: QuantizedModel, floatHost: HostParams, f: (teacher: ModelRun) => Promise<T>): Promise<T> {
  const store = new ParamStore(ctx.be, qm.plan.graph, floatHost);
  try {
    return await f({ graph: qm.plan.graph, store });
  } finally {
    store.dispose();
  }
}

/** The fake-quant model's output similarity to the float model on `test` (VALIDATION state for the measure). */
async function similarityOf(ctx: JobContext, qm: QuantizedModel, teacher: ModelRun, test: ImageDataset, data: JobData, batchSize: number): Promise<OutputSimilarity[]> {
  const prev = qm.state;
  qm.setState('VALIDATION');
  try {
    return await outputSimilarity(ctx.be, { graph: qm.plan.graph, store: qm.store, hooks: qm.hooks }, teacher, test, { batchSize, normalize: data.normalize, signal: ctx.signal });
  } finally {
    qm.setState(prev);
  }
}

export async function runCalibration(ctx: JobContext, float: FloatState, data: JobData, cfg: CalibJobConfig): Promise<QuantState> {
  checkShape(float, data);
  const start = performance.now();
  const fused = fuse(float.graph, float.host);
  const qm = build(ctx.be, fused.graph, fused.host, makeQConfig(cfg.quant));
  try {
    const images = Math.min(cfg.batches * cfg.batchSize, data.train.count);
    const calibDs = randomSubset(data.train, images, 1);
    const total = batchCount(images, cfg.batchSize);
    ctx.post({ type: 'quant-started', stage: 'calib', total, acts: qm.plan.acts.length, weights: qm.plan.weights.length });
    const hist = new ActHistogramCollector();
    qm.setState('CALIBRATION');
    await histogramPass(ctx, qm, calibDs, cfg.batchSize, data.normalize, hist, (batch) => {
      const secs = (performance.now() - start) / 1000;
      ctx.post({ type: 'quant-progress', stage: 'calib', done: batch, total, loss: NaN, etaSeconds: (secs / batch) * (total - batch) });
    });
    qm.finishCalibration();
    qm.setState('VALIDATION');
    const test = randomSubset(data.test, Math.min(cfg.testImages, data.test.count), 0);
    const ptq = cfg.ptq ? await runPtq(ctx, qm, calibDs, test, data, cfg.ptq, cfg.batchSize) : undefined;
    const ev = await evaluate(ctx.be, qm.plan.graph, qm.store, test, { hooks: qm.hooks, normalize: data.normalize, signal: ctx.signal });
    const similarity = await withTeacher(ctx, qm, fused.host, (teacher) => similarityOf(ctx, qm, teacher, test, data, cfg.batchSize));
    const scales = await qm.scales();
    const histograms = finishHistograms(qm, hist, scales.activations);
    const state = await finish(ctx, qm, float, 'calib', { calibImages: images, ...(ptq ? { ptq } : {}) });
    ctx.post({ type: 'quant-done', stage: 'calib', acc1: ev.acc1, acc5: ev.acc5, seconds: (performance.now() - start) / 1000, scales, histograms, ptq, similarity });
    return state;
  } finally {
    qm.store.dispose();
    qm.dispose();
  }
}

export async function runQat(ctx: JobContext, float: FloatState, calib: QuantState | null, data: JobData, cfg: QatJobConfig): Promise<QuantState> {
  checkShape(float, data);
  const start = performance.now();
  let qc = makeQConfig(cfg.quant);
  let qm: QuantizedModel;
  if (calib) {
    // The calibrated scales were made for the calibration's march: keep it (as the CLI does).
    qc = { ...qc, march: calib.qconfig.march };
    qm = build(ctx.be, calib.graph, calib.params, qc, calib.qsites);
  } else {
    const fused = fuse(float.graph, float.host);
    qm = build(ctx.be, fused.graph, fused.host, qc);
  }
  try {
    const trainDs = randomSubset(data.train, Math.min(cfg.trainImages, data.train.count), 0);
    const test = randomSubset(data.test, Math.min(cfg.testImages, data.test.count), 0);
    const total = batchCount(trainDs.count, cfg.batchSize) * cfg.epochs;
    ctx.post({ type: 'quant-started', stage: 'qat', total, acts: qm.plan.acts.length, weights: qm.plan.weights.length });
    const labelled = trainDs.labels !== null;
    if (!labelled && !cfg.distill) {
      throw new Error(`QAT with cross-entropy needs labels, and ${data.train.name} has none: turn on distillation (the float model teaches the quantized one)`);
    }
    const distill = cfg.distill ? { ...cfg.distill, withLabels: labelled } : null;
    if (distill) checkDistill(distill, qm.plan.graph);
    const floatHost = fuse(float.graph, float.host).host;
    const student: ModelRun = { graph: qm.plan.graph, store: qm.store, hooks: qm.hooks };
    let last: { acc1: number; acc5: number; similarity?: OutputSimilarity[] } = { acc1: NaN, acc5: NaN };
    await withTeacher(ctx, qm, floatHost, async (teacher) => {
      qm.setState('QAT');
      await train(ctx.be, qm.plan.graph, qm.store, trainDs, test, {
        epochs: cfg.epochs, batchSize: cfg.batchSize, seed: cfg.seed, schedule: 'cosine', normalize: data.normalize,
        optimizer: { name: cfg.optimizer, lr: cfg.lr, momentum: 0.9 },
      }, {
        hooks: qm.hooks,
        signal: ctx.signal,
        ...(distill ? { step: distillStepFn(ctx.be, student, teacher, qm.plan.acts.map((a) => a.node), distill) } : {}),
        evaluateEpoch: async () => ({ similarity: await similarityOf(ctx, qm, teacher, test, data, cfg.batchSize) }),
        onProgress: (p) => ctx.post({ type: 'quant-progress', stage: 'qat', done: p.step, total: p.totalSteps, loss: p.loss, etaSeconds: p.etaSeconds }),
        onEpoch: (r) => {
          last = r;
          ctx.post({ type: 'quant-epoch', stage: 'qat', epoch: r.epoch, acc1: r.acc1, acc5: r.acc5, loss: r.loss, ...(r.similarity ? { similarity: r.similarity } : {}) });
        },
      });
    });
    qm.setState('VALIDATION');
    const scales = await qm.scales();
    // The trained model's activations at its QAT scales, on the images calibration sees (same count, same seed).
    const hist = new ActHistogramCollector();
    const histDs = randomSubset(data.train, Math.min(cfg.histogramImages ?? 256, data.train.count), 1);
    await histogramPass(ctx, qm, histDs, cfg.batchSize, data.normalize, hist);
    const histograms = finishHistograms(qm, hist, scales.activations);
    const state = await finish(ctx, qm, float, 'qat', { epochs: cfg.epochs, ...(cfg.distill ? { distill: cfg.distill } : {}) });
    ctx.post({ type: 'quant-done', stage: 'qat', acc1: last.acc1, acc5: last.acc5, seconds: (performance.now() - start) / 1000, scales, histograms,
      ...(last.similarity ? { similarity: last.similarity } : {}) });
    return state;
  } finally {
    qm.store.dispose();
    qm.dispose();
  }
}
