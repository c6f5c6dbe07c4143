/**
 * The deployment check as a job of the training worker, wired like the CLI's int_infer + compile stages
 * (src/cli/stages/int-infer.ts, compile.ts) but on the loaded data: the kept QAT (else calibrated) model is
 * converted to the integer model, written as the model file, exported as ONNX QDQ and for PyTorch, estimated per march; then
 * `deployCheck` compares the fake-quant model (VALIDATION state, on this worker's engine) with the fixed-point
 * simulator batch by batch. The simulator is not run here: `simulate` is injected (the worker host asks the page,
 * which runs it in the simulator's own worker through SimClient), so this module stays testable with runIntModel.
 */
import { fitsClasses, randomSubset } from '../data/dataset.ts';
import { exportQdqOnnx } from '../io/onnx/export-qdq.ts';
import { torchPackageZip } from '../io/torch/export-package.ts';
import { ParamStore } from '../nn/params.ts';
import { estimatePerf } from '../perf/estimate.ts';
import { frameRange } from '../perf/frame-range.ts';
import { convertCheckpoint } from '../quant/convert.ts';
import { accumulatorsForReport, checkAccumulators } from '../quant/accumulator-bound.ts';
import { deployCheck, type DeployCheckResult, type SimulateFn } from '../quant/deploy-check.ts';
import { MARCHES } from '../qmath/march.ts';
import { prepare } from '../quant/prepare.ts';
import { QuantizedModel } from '../quant/quantized-model.ts';
import { encodeModelFile } from '../sim/model-file.ts';
import { errorText } from './protocol.ts';
import type { FloatState, JobContext, JobData, QuantState } from './quant-jobs.ts';
import { argmaxRows, predictionSamples, type PredictionSamples } from './prediction-samples.ts';
import { evaluate } from './evaluate.ts';
import type { ImageDataset } from '../data/dataset.ts';
import type { DeployArtifacts, DeployJobConfig, DeployPerf, QuantRequest, QuantStage } from './quant-protocol.ts';

export type DeploySimAnswer = Extract<QuantRequest, { type: 'deploy-sim-result' | 'deploy-sim-error' }>;

/** The model the check converts: the requested stage, or QAT then calibration for 'auto'. */
export function pickDeploySource(cfg: DeployJobConfig, kept: { calib: QuantState | null; qat: QuantState | null }): QuantState {
  const want: QuantStage[] = cfg.source === 'auto' ? ['qat', 'calib'] : [cfg.source];
  for (const s of want) {
    const q = kept[s];
    if (q) return q;
  }
  throw new Error(cfg.source === 'auto' ? 'no calibrated or QAT model: calibrate or run QAT first'
    : `no ${cfg.source === 'qat' ? 'QAT' : 'calibrated'} model: ${cfg.source === 'qat' ? 'run QAT' : 'calibrate'} first`);
}

/** The estimate of every march, the model's own first, with its range (the per-frame costs the roofline leaves out). */
export function perfPerMarch(im: Parameters<typeof estimatePerf>[0]): DeployPerf[] {
  const order = [im.march, ...MARCHES.filter((m) => m !== im.march)];
  return order.map((m) => {
    const est = estimatePerf(im, m, { batch: 1 });
    const { layers: _layers, ...rest } = est;
    return { ...rest, range: frameRange(est) };
  });
}

/** The check's result, and what it saw image by image (predictions of the simulator and of the float model). */
export interface DeployOutcome { result: DeployCheckResult; samples: PredictionSamples }

export async function runDeployCheck(ctx: JobContext, q: QuantState, data: JobData, cfg: DeployJobConfig, simulate: SimulateFn,
  float: FloatState | null = null): Promise<DeployOutcome> {
  const split = cfg.split === 'train' ? data.train : data.test;
  const want = q.graph.inputShape.join('x'), have = [split.channels, split.height, split.width].join('x');
  if (want !== have || !fitsClasses(q.graph.numClasses, split)) {
    throw new Error(`the ${q.stage} model takes ${want} inputs with ${q.graph.numClasses} classes; the loaded data is ${have} with ${split.numClasses}`);
  }
  const im = convertCheckpoint({ ...q, meta: {} });
  const modelFile = encodeModelFile(im);
  const qm = new QuantizedModel(ctx.be, prepare(q.graph, q.qconfig), new ParamStore(ctx.be, q.graph, q.params));
  try {
    qm.loadHost(q.qsites);
    qm.setState('VALIDATION');
    let onnx: Uint8Array | null = null, onnxError: string | null = null;
    try {
      onnx = await exportQdqOnnx(qm);
    } catch (e) {
      onnxError = errorText(e);
    }
    let torchZip: Uint8Array | null = null, torchError: string | null = null;
    try {
      torchZip = torchPackageZip({ ...q, meta: {} }, data.normalize ?? 'pixel/255');
    } catch (e) {
      torchError = errorText(e);
    }
    const ds = randomSubset(split, Math.max(1, Math.min(cfg.images, split.count)), 0);
    const sites = Object.keys(im.values).filter((id) => qm.acts.has(id) || qm.plan.int32Outputs.includes(id)).length;
    const artifacts: DeployArtifacts = {
      source: q.stage, model: q.model, march: im.march, modelFile, onnx, onnxError, torchZip, torchError, perf: perfPerMarch(im),
      intLayers: im.layers.length, accumulators: accumulatorsForReport(checkAccumulators(im)), sites, totalImages: ds.count,
    };
    ctx.post({ type: 'deploy-started', ...artifacts });
    // The simulator's predictions, batch by batch in the order of ds (deployCheck walks it in order).
    const intPred: number[] = [];
    const k = q.graph.numClasses;
    const recording: SimulateFn = async (x, n, dump) => {
      const r = await simulate(x, n, dump);
      intPred.push(...argmaxRows(r.output, n, k));
      return r;
    };
    const result = await deployCheck(qm, im, ds, recording, {
      batchSize: cfg.batchSize, normalize: data.normalize, signal: ctx.signal,
      onProgress: (p) => ctx.post({ type: 'deploy-progress', images: p.images, totalImages: p.totalImages }),
    });
    return { result, samples: predictionSamples(ds, intPred, float ? await floatPredictions(ctx, float, ds, data, cfg.batchSize) : null) };
  } finally {
    qm.store.dispose();
    qm.dispose();
  }
}

/** The float model's predictions on the same images (its graph must take them: a float of this scope does). */
async function floatPredictions(ctx: JobContext, float: FloatState, ds: ImageDataset, data: JobData, batchSize: number): Promise<number[] | null> {
  const want = float.graph.inputShape.join('x'), have = [ds.channels, ds.height, ds.width].join('x');
  if (want !== have || !fitsClasses(float.graph.numClasses, ds)) return null;
  const store = new ParamStore(ctx.be, float.graph, float.host);
  const out: number[] = [];
  try {
    await evaluate(ctx.be, float.graph, store, ds, {
      batchSize, normalize: data.normalize, signal: ctx.signal,
      onLogits: (logits, _labels, n) => out.push(...argmaxRows(logits, n, float.graph.numClasses)),
    });
  } finally {
    store.dispose();
  }
  return out;
}

/**
 * The worker's side of the simulator round trip: `simulate` posts a deploy-sim-request and waits for the page's
 * answer (`answer`); an abort of the job rejects the batch in flight.
 */
export function createSimBridge(post: JobContext['post'], signal: AbortSignal): { simulate: SimulateFn; answer(m: DeploySimAnswer): void } {
  let next = 0;
  const pending = new Map<number, { resolve: (v: Awaited<ReturnType<SimulateFn>>) => void; reject: (e: unknown) => void }>();
  signal.addEventListener('abort', () => {
    for (const p of pending.values()) p.reject(new DOMException('deployment check cancelled', 'AbortError'));
    pending.clear();
  }, { once: true });
  return {
    simulate: (x, n, dump) => new Promise((resolve, reject) => {
      if (signal.aborted) return reject(new DOMException('deployment check cancelled', 'AbortError'));
      const batch = ++next;
      pending.set(batch, { resolve, reject });
      post({ type: 'deploy-sim-request', batch, x, n, dump });
    }),
    answer(m) {
      const p = pending.get(m.batch);
      if (!p) return;
      pending.delete(m.batch);
      if (m.type === 'deploy-sim-error') p.reject(new Error(`simulator: ${m.message}`));
      else p.resolve({ output: m.output, outputs: m.outputs, dumps: m.dumps });
    },
  };
}
