/**
 * The training loop shared by the CLI and the page: epochs of seeded batches, the optimizer and
 * schedule, progress (images, loss, ETA, images/s), pause and cancel, evaluation per epoch.
 */
import type { Backend } from '../engine/backend.ts';
import { Tape } from '../engine/autograd.ts';
import { softmaxCrossEntropyFn } from '../engine/fns/loss.ts';
import { Optimizer, type OptimizerConfig } from '../engine/optim/optimizer.ts';
import { scheduleAt, type ScheduleName } from '../engine/optim/schedule.ts';
import { requireLabels, type ImageDataset } from '../data/dataset.ts';
import { batchCount, iterateBatches, type AugmentOptions, type Batch, type Normalization } from '../data/loader.ts';
import type { Graph } from '../graph/ir.ts';
import { runGraph, type Hooks } from '../nn/executor.ts';
import type { ParamStore } from '../nn/params.ts';
import { evaluate, type EvalResult } from './evaluate.ts';
import type { OutputSimilarity } from '../quant/output-similarity.ts';

export interface TrainConfig {
  epochs: number;
  batchSize: number;
  optimizer: OptimizerConfig;
  schedule: ScheduleName;
  seed: number;
  normalize?: Normalization;
  augment?: AugmentOptions;
  /** Evaluate on the test set after each epoch (default true). */
  evalEachEpoch?: boolean;
  evalBatchSize?: number;
  /** Read the loss back every this many steps (reading forces a GPU round trip). */
  lossEvery?: number;
  /** Resume at this epoch (0-based): the schedule continues where it was; optimizer state restarts. */
  startEpoch?: number;
}

export interface TrainProgress {
  epoch: number;
  step: number;
  totalSteps: number;
  imagesDone: number;
  totalImages: number;
  loss: number;
  lr: number;
  imagesPerSecond: number;
  etaSeconds: number;
}

/** `similarity`: the output similarity to the float model (distillation QAT; output-similarity.ts). */
export interface EpochResult extends EvalResult { epoch: number; loss: number; similarity?: OutputSimilarity[] }

/** One optimizer step on a batch (the loss read back when `readLoss`, else NaN): cross-entropy, or distillation. */
export type StepFn = (opt: Optimizer, batch: Batch, readLoss: boolean) => Promise<number>;

export interface TrainCallbacks {
  onProgress?: (p: TrainProgress) => void;
  onEpoch?: (r: EpochResult) => void | Promise<void>;
  signal?: AbortSignal;
  /** Resolves when training may continue (pause = a pending promise). */
  waitIfPaused?: () => Promise<void>;
  /** Quantization hooks (fake quant during QAT). */
  hooks?: Hooks;
  /** Replaces the cross-entropy step (distillation QAT, distill.ts). */
  step?: StepFn;
  /** More of each epoch's evaluation (the output similarity to the float model). */
  evaluateEpoch?: () => Promise<Pick<EpochResult, 'similarity'>>;
}

export interface TrainResult {
  epochs: EpochResult[];
  seconds: number;
  imagesPerSecond: number;
  trainImages: number;
  steps: number;
}

export class Cancelled extends Error {
  constructor() {
    super('cancelled');
    this.name = 'AbortError';
  }
}

/** One optimizer step on one batch; returns the loss tensor read back when `readLoss`. */
export async function trainStep(be: Backend, graph: Graph, store: ParamStore, opt: Optimizer, x: Float32Array,
  shape: readonly number[], labels: Float32Array, readLoss: boolean, hooks?: Hooks): Promise<number> {
  const tape = new Tape(be, true, true);
  let seed = null;
  try {
    const input = tape.input(x, shape);
    const y = tape.input(labels, [labels.length]);
    const { output } = runGraph(tape, graph, store, input, { ...hooks });
    const loss = tape.apply(softmaxCrossEntropyFn, [output, y], null);
    seed = be.upload(new Float32Array([1]), [1]);
    store.zeroGrad();
    tape.backward(loss, seed);
    opt.step();
    return readLoss ? (await be.read(loss.value))[0] : NaN;
  } finally {
    if (seed) be.release(seed);
    tape.dispose();
  }
}

export async function train(be: Backend, graph: Graph, store: ParamStore, train: ImageDataset, test: ImageDataset | null,
  cfg: TrainConfig, cb: TrainCallbacks = {}): Promise<TrainResult> {
  if (!cb.step) requireLabels(train, 'Training with cross-entropy (float training, labelled QAT)');
  const stepsPerEpoch = batchCount(train.count, cfg.batchSize);
  const totalSteps = stepsPerEpoch * cfg.epochs;
  const opt = new Optimizer(be, [...store.vars.values()], cfg.optimizer);
  const lossEvery = cfg.lossEvery ?? 1;
  const epochs: EpochResult[] = [];
  const start = performance.now();
  let trainSeconds = 0;
  const startEpoch = cfg.startEpoch ?? 0;
  let step = startEpoch * stepsPerEpoch, imagesDone = 0;
  const imagesTotal = train.count * (cfg.epochs - startEpoch);
  try {
    for (let epoch = startEpoch; epoch < cfg.epochs; epoch++) {
      let lossSum = 0, lossCount = 0, lastLoss = NaN;
      const epochStart = performance.now();
      for (const batch of iterateBatches(train, cfg.batchSize, cfg.seed, epoch, { normalize: cfg.normalize, augment: cfg.augment })) {
        if (cb.signal?.aborted) throw new Cancelled();
        if (cb.waitIfPaused) await cb.waitIfPaused();
        const s = scheduleAt({ name: cfg.schedule, lr: cfg.optimizer.lr, totalSteps, stepsPerEpoch }, step);
        opt.lr = s.lr;
        if (s.momentum !== null && (cfg.optimizer.name !== 'sgd' || (cfg.optimizer.momentum ?? 0) > 0)) opt.momentum = s.momentum;
        const read = step % lossEvery === 0 || step === totalSteps - 1;
        const loss = cb.step ? await cb.step(opt, batch, read) : await trainStep(be, graph, store, opt, batch.x, batch.shape, batch.labels, read, cb.hooks);
        if (read) {
          lastLoss = loss;
          lossSum += loss;
          lossCount++;
        }
        step++;
        imagesDone += batch.n;
        const elapsed = trainSeconds + (performance.now() - epochStart) / 1000;
        const ips = imagesDone / Math.max(1e-9, elapsed);
        cb.onProgress?.({
          epoch, step, totalSteps, imagesDone, totalImages: imagesTotal,
          loss: lastLoss, lr: s.lr, imagesPerSecond: ips, etaSeconds: (imagesTotal - imagesDone) / Math.max(1e-9, ips),
        });
      }
      await be.sync();
      trainSeconds += (performance.now() - epochStart) / 1000;
      const ev = test && (cfg.evalEachEpoch ?? true)
        ? await evaluate(be, graph, store, test, { batchSize: cfg.evalBatchSize, normalize: cfg.normalize, signal: cb.signal, hooks: cb.hooks })
        : { acc1: NaN, acc5: NaN, images: 0 };
      const more = cb.evaluateEpoch && (cfg.evalEachEpoch ?? true) ? await cb.evaluateEpoch() : {};
      const r: EpochResult = { ...ev, ...more, epoch: epoch + 1, loss: lossSum / Math.max(1, lossCount) };
      epochs.push(r);
      await cb.onEpoch?.(r);
    }
  } finally {
    opt.dispose();
  }
  return {
    epochs, seconds: (performance.now() - start) / 1000, imagesPerSecond: imagesDone / Math.max(1e-9, trainSeconds),
    trainImages: train.count, steps: step - startEpoch * stepsPerEpoch,
  };
}
