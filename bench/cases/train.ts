/**
 * Training throughput (images/s): one Adam step per iteration on the same random batch, our
 * trainStep (src/train/trainer.ts) against the same graph run by TF.js (bench/tfjs-peer.ts).
 * Both start from the same initial parameters (initHostParams, seed 0), so their first losses
 * must agree: that is checked, as evidence that the two sides compute the same thing.
 */
import type { Backend } from '../../src/engine/backend.ts';
import { Optimizer } from '../../src/engine/optim/optimizer.ts';
import { buildModel } from '../../src/models/zoo.ts';
import { initHostParams, ParamStore } from '../../src/nn/params.ts';
import { trainStep } from '../../src/train/trainer.ts';
import { comparePair, row, type BenchOptions, type Row, type RowDetail, type Side } from '../harness.ts';
import { TfjsModel, tfjsTrainStep, tf } from '../tfjs-model.ts';
import type { TfjsPeer } from '../tfjs-peer.ts';
import { createRng } from '../../src/data/rng.ts';
import type { Graph } from '../../src/graph/ir.ts';

export const LR = 1e-3;

export interface Batch { x: Float32Array; shape: number[]; labels: Float32Array }

/** A fixed batch of Fashion-MNIST-shaped data: pixels in [0, 1), labels 0..9 (seeded). */
export function randomBatch(n: number, inputShape: readonly number[], numClasses: number, seed = 1): Batch {
  const rng = createRng(seed);
  const size = n * inputShape.reduce((a, b) => a * b, 1);
  const x = new Float32Array(size);
  for (let i = 0; i < size; i++) x[i] = rng.float();
  const labels = new Float32Array(n);
  for (let i = 0; i < n; i++) labels[i] = Math.min(numClasses - 1, Math.floor(rng.float() * numClasses));
  return { x, shape: [n, ...inputShape], labels };
}

export interface OursTrainer extends Side {
  firstLoss(): Promise<number>;
  dispose(): void;
}

/** trainStep's optional last argument (the quantization hooks of runGraph). */
export type TrainHooks = Parameters<typeof trainStep>[8];

export function oursTrainer(be: Backend, model: string, batch: Batch,
  makeHooks?: (graph: Graph, store: ParamStore) => TrainHooks): OursTrainer {
  const graph = buildModel(model);
  const store = new ParamStore(be, graph, initHostParams(graph, 0));
  const hook = makeHooks?.(graph, store);
  const opt = new Optimizer(be, [...store.vars.values()], { name: 'adam', lr: LR });
  return {
    async firstLoss() {
      return trainStep(be, graph, store, opt, batch.x, batch.shape, batch.labels, true, hook);
    },
    async run(k) {
      for (let i = 0; i < k; i++) await trainStep(be, graph, store, opt, batch.x, batch.shape, batch.labels, false, hook);
      await be.sync();
    },
    dispose() {
      opt.dispose();
      store.dispose();
    },
  };
}

export function peerTrainer(model: string, batch: Batch): OursTrainer {
  const graph = buildModel(model);
  const m = new TfjsModel(graph, initHostParams(graph, 0));
  const opt = tf.train.adam(LR, 0.9, 0.999, 1e-8);
  const step = () => tfjsTrainStep(m, opt, batch.x, batch.shape, batch.labels, graph.numClasses);
  return {
    async firstLoss() {
      const l = step();
      const v = (await l.data())[0];
      l.dispose();
      return v;
    },
    async run(k) {
      let last: tf.Scalar | null = null;
      for (let i = 0; i < k; i++) {
        last?.dispose();
        last = step();
      }
      await last!.data();
      last!.dispose();
    },
    dispose() {
      opt.dispose();
      m.dispose();
    },
  };
}

export async function trainCase(be: Backend, peer: Pick<TfjsPeer, 'name'>, model: string, batchSize: number, o: BenchOptions,
  log: (s: string) => void): Promise<{ row: Row; detail: RowDetail }> {
  const graph = buildModel(model);
  const batch = randomBatch(batchSize, graph.inputShape, graph.numClasses);
  const ours = oursTrainer(be, model, batch);
  const tfp = peerTrainer(model, batch);
  try {
    // The first step of each side, from identical parameters on identical data: same loss.
    const l0 = await ours.firstLoss();
    const p0 = await tfp.firstLoss();
    const agree = Math.abs(l0 - p0) <= 1e-3 * Math.max(1, Math.abs(p0));
    log(`  ${model}: first-step loss ours ${l0.toFixed(5)}, peer ${p0.toFixed(5)}${agree ? '' : '  <-- MISMATCH'}`);
    if (!Number.isFinite(l0)) throw new Error(`${model}: our first loss is ${l0}`);
    const r = await comparePair(ours, tfp, batchSize, o);
    const name = `train ${model} b${batchSize}`;
    return {
      row: row(name, 'images/s', peer.name, r),
      detail: { case: name, ...r, note: `first-step loss ours ${l0} peer ${p0}${agree ? '' : ' (MISMATCH)'}` },
    };
  } finally {
    ours.dispose();
    tfp.dispose();
  }
}
