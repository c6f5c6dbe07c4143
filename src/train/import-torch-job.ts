/**
 * The page's import of a PyTorch QAT result (src/io/torch/import-checkpoint.ts) as a job of the training worker: the
 * result must be of the kept float model (same model name, and its graph the float model's fused graph), then it is
 * evaluated (VALIDATION) on the loaded test data like a QAT run and becomes the kept QAT model (checkpoint message,
 * quant-done with stage qat), ready for the deployment check.
 */
import { randomSubset } from '../data/dataset.ts';
import { fuse } from '../graph/passes/fuse.ts';
import { importTorchCheckpoint, sameGraph, type TorchImportFiles } from '../io/torch/import-checkpoint.ts';
import { ParamStore } from '../nn/params.ts';
import { prepare } from '../quant/prepare.ts';
import { QuantizedModel } from '../quant/quantized-model.ts';
import { evaluate } from './evaluate.ts';
import { checkShape, finish, type FloatState, type JobContext, type JobData, type QuantState } from './quant-jobs.ts';

export async function runImportTorch(ctx: JobContext, float: FloatState, data: JobData, files: TorchImportFiles, testImages: number): Promise<QuantState> {
  checkShape(float, data);
  const start = performance.now();
  const { checkpoint: ck } = importTorchCheckpoint(files);
  const from = files['qparams.json'].name;
  if (ck.model !== float.model) throw new Error(`${from}: a QAT result of model ${ck.model}; the studio's model is ${float.model}`);
  if (!sameGraph(fuse(float.graph, float.host).graph, ck.graph)) {
    throw new Error(`${from}: its fused graph is not the one of the current ${float.model} (exported from another version of the model?)`);
  }
  const qm = new QuantizedModel(ctx.be, prepare(ck.graph, ck.qconfig), new ParamStore(ctx.be, ck.graph, ck.params));
  try {
    qm.loadHost(ck.qsites);
    qm.setState('VALIDATION');
    ctx.post({ type: 'quant-started', stage: 'qat', total: 1, acts: qm.plan.acts.length, weights: qm.plan.weights.length });
    const test = randomSubset(data.test, Math.min(testImages, data.test.count), 0);
    const ev = await evaluate(ctx.be, ck.graph, qm.store, test, { hooks: qm.hooks, normalize: data.normalize, signal: ctx.signal });
    ctx.post({ type: 'quant-progress', stage: 'qat', done: 1, total: 1, loss: NaN, etaSeconds: 0 });
    const scales = await qm.scales();
    const state = await finish(ctx, qm, float, 'qat', { source: 'pytorch', normalization: data.normalize });
    ctx.post({ type: 'quant-done', stage: 'qat', acc1: ev.acc1, acc5: ev.acc5, seconds: (performance.now() - start) / 1000, scales, histograms: [] });
    return state;
  } finally {
    qm.store.dispose();
    qm.dispose();
  }
}
