/**
 * QAT training images/s against float training images/s of cnn-small, both on our engine
 * (row peer "ours-float", ratio = qat / float, target >= 0.7).
 *
 * QAT: the graph prepared with the 'default_qat' qconfig (src/quant/prepare.ts), a QuantizedModel
 * (src/quant/quantized-model.ts) over the same ParamStore in state QAT, its hooks passed to
 * trainStep (fake quant of weights and activations, ranges updated on the device every step).
 * Float: the same trainStep without hooks. Same batch, same initial parameters, interleaved blocks.
 *
 * The QAT modules are loaded at run time: while they are not in the checkout the row is left out
 * (with a note) instead of breaking the bench.
 */
import type { Backend } from '../../src/engine/backend.ts';
import type { Graph } from '../../src/graph/ir.ts';
import type { ParamStore } from '../../src/nn/params.ts';
import { buildModel } from '../../src/models/zoo.ts';
import { comparePair, row, type BenchOptions, type Row, type RowDetail } from '../harness.ts';
import { oursTrainer, randomBatch, type TrainHooks } from './train.ts';

const QCONFIG = 'default_qat';

/* eslint-disable @typescript-eslint/no-explicit-any */
async function loadQat(): Promise<((graph: Graph, store: ParamStore) => TrainHooks) | string> {
  // Paths in variables: the type checker does not require the modules to exist.
  const paths = ['../../src/quant/prepare.ts', '../../src/quant/qconfig.ts', '../../src/quant/quantized-model.ts'];
  let prep: any, qc: any, qmod: any;
  try {
    [prep, qc, qmod] = await Promise.all(paths.map((p) => import(p)));
  } catch (e) {
    return `QAT modules not available (${(e as Error).message.split('\n')[0]})`;
  }
  if (typeof prep.prepare !== 'function' || typeof qc.qconfigTemplate !== 'function' || typeof qmod.QuantizedModel !== 'function') {
    return 'QAT modules lack prepare / qconfigTemplate / QuantizedModel';
  }
  return (graph, store) => {
    const qm = new qmod.QuantizedModel(store.be, prep.prepare(graph, qc.qconfigTemplate(QCONFIG)), store);
    qm.setState('QAT');
    return qm.hooks as TrainHooks;
  };
}

export async function qatCase(be: Backend, batchSize: number, o: BenchOptions,
  log: (s: string) => void): Promise<{ row: Row; detail: RowDetail } | string> {
  const makeHooks = await loadQat();
  if (typeof makeHooks === 'string') {
    log(`  ${makeHooks}: QAT row left out`);
    return makeHooks;
  }
  const graph = buildModel('cnn-small');
  const batch = randomBatch(batchSize, graph.inputShape, graph.numClasses);
  const qat = oursTrainer(be, 'cnn-small', batch, makeHooks);
  const float = oursTrainer(be, 'cnn-small', batch);
  try {
    const lq = await qat.firstLoss(), lf = await float.firstLoss();
    log(`  first-step loss QAT ${lq.toFixed(5)}, float ${lf.toFixed(5)}`);
    if (!Number.isFinite(lq)) throw new Error(`QAT first loss is ${lq}`);
    const r = await comparePair(qat, float, batchSize, o);
    const name = `QAT train cnn-small b${batchSize} (${QCONFIG})`;
    return {
      row: row(name, 'images/s', 'ours-float', r),
      detail: { case: name, ...r, note: `ratio = qat / float, target >= 0.7; first-step loss QAT ${lq} float ${lf}` },
    };
  } finally {
    qat.dispose();
    float.dispose();
  }
}
