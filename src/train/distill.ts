/**
 * QAT by distillation: the float model is the teacher, the fake-quant model the student. Per batch the teacher
 * runs without gradient (its float weights fixed), the student with the quantization hooks, and the loss is
 *   output term   MSE(student, teacher) over the whole output, or KL(softmax(teacher) || softmax(student)) on
 *                 logits [N, K] (distill_loss.wgsl, src/engine/fns/distill-loss.ts)
 * + feature term  featureWeight · mean over the quantized activation sites of MSE(fake-quant value, float value)
 * + cross-entropy with the labels, when the run is labelled (a classifier's labelled QAT plus the distillation term).
 * No labels are needed otherwise, so any model trains on a folder of images.
 */
import { Tape, type Var } from '../engine/autograd.ts';
import type { Backend } from '../engine/backend.ts';
import { addFn } from '../engine/fns/activation.ts';
import { mseLossFn, scaleFn, softKlLossFn } from '../engine/fns/distill-loss.ts';
import { softmaxCrossEntropyFn } from '../engine/fns/loss.ts';
import type { Optimizer } from '../engine/optim/optimizer.ts';
import type { Batch } from '../data/loader.ts';
import { graphOutputs, type Graph } from '../graph/ir.ts';
import { runGraph } from '../nn/executor.ts';
import type { ModelRun } from '../quant/output-similarity.ts';
import type { StepFn } from './trainer.ts';

export const DISTILL_LOSSES = ['mse', 'kl'] as const;
export type DistillLoss = (typeof DISTILL_LOSSES)[number];

export interface DistillConfig {
  loss: DistillLoss;
  /** Weight of the per-site feature term; 0: output only. */
  featureWeight: number;
  /** Add cross-entropy with the batch's labels (a labelled run); false: distillation alone. */
  withLabels: boolean;
}

/** Throws, in the user's terms, when the settings cannot work with this model (its graph). */
export function checkDistill(cfg: DistillConfig, graph: Graph): void {
  for (const id of graphOutputs(graph)) checkOutput(cfg, graph, id);
}

function checkOutput(cfg: DistillConfig, graph: Graph, outputName: string): void {
  const out = graph.nodes.find((n) => n.id === outputName);
  const outputShape = out ? [0, ...out.shape] : [];
  if (!(DISTILL_LOSSES as readonly string[]).includes(cfg.loss)) throw new Error(`distillation loss must be ${DISTILL_LOSSES.join(' or ')}, got "${cfg.loss}"`);
  if (!Number.isFinite(cfg.featureWeight) || cfg.featureWeight < 0) throw new Error(`feature weight must be a number >= 0, got ${cfg.featureWeight}`);
  if (cfg.loss === 'kl' && outputShape.length !== 2) {
    throw new Error(`KL distillation needs logits [N, K], but output ${outputName} is [${['N', ...outputShape.slice(1)].join(', ')}]: use the MSE loss`);
  }
}

/** The quantized activation sites whose float and fake-quant values the feature term compares. */
export function featureSites(student: ModelRun, sites: Iterable<string>): Set<string> {
  const ids = new Set(student.graph.nodes.map((n) => n.id));
  const outs = new Set(graphOutputs(student.graph));
  return new Set([...sites].filter((s) => ids.has(s) && !outs.has(s)));
}

/** One distillation step on a batch: the student's parameters take the optimizer's step. */
export async function distillStep(be: Backend, student: ModelRun, teacher: ModelRun, sites: ReadonlySet<string>, cfg: DistillConfig,
  opt: Optimizer, batch: Batch, readLoss: boolean): Promise<number> {
  const tTape = new Tape(be, false, false);
  const sTape = new Tape(be, true, true);
  let seed = null;
  const feature = cfg.featureWeight > 0 && sites.size > 0;
  const keep = feature ? (n: { id: string }) => sites.has(n.id) : undefined;
  try {
    const t = runGraph(tTape, teacher.graph, teacher.store, tTape.input(batch.x, batch.shape), { ...teacher.hooks, keep });
    const s = runGraph(sTape, student.graph, student.store, sTape.input(batch.x, batch.shape), { ...student.hooks, keep });
    // The output term of every output (a model with several outputs sums them; KL needs each to be logits).
    let loss: Var = sTape.apply(cfg.loss === 'kl' ? softKlLossFn : mseLossFn, [s.outputs[0], t.outputs[0]], null);
    for (let k = 1; k < s.outputs.length; k++) {
      loss = sTape.apply(addFn, [loss, sTape.apply(cfg.loss === 'kl' ? softKlLossFn : mseLossFn, [s.outputs[k], t.outputs[k]], null)], null);
    }
    if (feature) {
      let sum: Var | null = null;
      for (const id of sites) {
        const sv = s.values.get(id), tv = t.values.get(id);
        if (!sv || !tv) continue;
        const term = sTape.apply(mseLossFn, [sv, tv], null);
        sum = sum ? sTape.apply(addFn, [sum, term], null) : term;
      }
      if (sum) loss = sTape.apply(addFn, [loss, sTape.apply(scaleFn, [sum], { c: cfg.featureWeight / sites.size })], null);
    }
    if (cfg.withLabels) {
      const y = sTape.input(batch.labels, [batch.n]);
      loss = sTape.apply(addFn, [loss, sTape.apply(softmaxCrossEntropyFn, [s.output, y], null)], null);
    }
    seed = be.upload(new Float32Array([1]), [1]);
    student.store.zeroGrad();
    sTape.backward(loss, seed);
    opt.step();
    return readLoss ? (await be.read(loss.value))[0] : NaN;
  } finally {
    if (seed) be.release(seed);
    sTape.dispose();
    tTape.dispose();
  }
}

/** The trainer's step function for distillation QAT. */
export function distillStepFn(be: Backend, student: ModelRun, teacher: ModelRun, sites: Iterable<string>, cfg: DistillConfig): StepFn {
  const feat = featureSites(student, sites);
  return (opt, batch, readLoss) => distillStep(be, student, teacher, feat, cfg, opt, batch, readLoss);
}
