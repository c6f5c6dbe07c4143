/**
 * Several outputs in the IR (the first step of issue 14's "several outputs of any shape"): a graph lists its outputs,
 * validation checks them, the executor returns each, fusion keeps every output computed (and identical), and the
 * output similarity and the distillation loss cover every output.
 */
import { describe, expect, it } from 'vitest';
import { Tape } from '../src/engine/autograd.ts';
import { createCpuBackend } from '../src/engine/reference/cpu-backend.ts';
import { Optimizer } from '../src/engine/optim/optimizer.ts';
import { iterateBatches } from '../src/data/loader.ts';
import type { ImageDataset } from '../src/data/dataset.ts';
import { GraphBuilder } from '../src/graph/builder.ts';
import { graphOutputs, type Graph } from '../src/graph/ir.ts';
import { fuse } from '../src/graph/passes/fuse.ts';
import { validateGraph } from '../src/graph/passes/util.ts';
import { runGraph } from '../src/nn/executor.ts';
import { initHostParams, ParamStore, type HostParams } from '../src/nn/params.ts';
import { outputSimilarity } from '../src/quant/output-similarity.ts';
import { distillStep } from '../src/train/distill.ts';

const be = createCpuBackend();

/** input [1, 4, 4] -> fc1 (8) -> relu1 -> fc2 (3); outputs: fc2 (logits) and relu1 (a feature vector). */
function twoOutputs(): Graph {
  const b = new GraphBuilder('two', [1, 4, 4], 3);
  const f = b.flatten('flatten', 'input');
  const h = b.relu('relu1', b.linear('fc1', f, 8));
  const y = b.linear('fc2', h, 3);
  return b.build(y, [h]);
}

const ds: ImageDataset = {
  name: 'toy', images: Uint8Array.from({ length: 6 * 16 }, (_, i) => (i * 29 + 3) & 255), labels: null,
  count: 6, channels: 1, height: 4, width: 4, numClasses: 0, classNames: [],
};
const batch = [...iterateBatches(ds, 6, 0, 0, { shuffle: false })][0];

async function run(g: Graph, host: HostParams): Promise<Float32Array[]> {
  const store = new ParamStore(be, g, host);
  const tape = new Tape(be, false, false);
  try {
    const r = runGraph(tape, g, store, tape.input(batch.x, batch.shape));
    expect(r.output).toBe(r.outputs[0]);
    return Promise.all(r.outputs.map((v) => be.read(v.value)));
  } finally {
    tape.dispose();
    store.dispose();
  }
}

describe('a graph with several outputs', () => {
  it('lists them (first = output) and validation checks them', () => {
    const g = twoOutputs();
    expect(graphOutputs(g)).toEqual(['fc2', 'relu1']);
    expect(graphOutputs({ output: 'x' })).toEqual(['x']);
    validateGraph(g);
    expect(() => validateGraph({ ...g, outputs: ['relu1', 'fc2'] })).toThrow('graph two: outputs must start with output fc2, got relu1');
    expect(() => validateGraph({ ...g, outputs: ['fc2', 'nope'] })).toThrow('graph two: output nope is not a node');
    expect(() => validateGraph({ ...g, outputs: ['fc2', 'fc2'] })).toThrow('graph two: an output is listed twice');
  });

  it('the executor returns every output; fusion keeps them computed and equal', async () => {
    const g = twoOutputs();
    const host = initHostParams(g, 3);
    const [y, h] = await run(g, host);
    expect([y.length, h.length]).toEqual([6 * 3, 6 * 8]);
    expect(h.every((v) => v >= 0)).toBe(true); // the ReLU's values, not fc1's
    const f = fuse(g, host);
    expect(graphOutputs(f.graph)).toHaveLength(2);
    validateGraph(f.graph);
    const [y2, h2] = await run(f.graph, f.host);
    expect([...y2]).toEqual([...y]);
    expect([...h2]).toEqual([...h]);
  });

  it('output similarity and the distillation loss cover every output', async () => {
    const g = twoOutputs();
    const host = initHostParams(g, 3);
    const other: HostParams = Object.fromEntries(Object.entries(host).map(([k, v]) => [k, v.map((x, i) => x + 0.03 * Math.cos(i + k.length))]));
    const teacher = { graph: g, store: new ParamStore(be, g, host) };
    const student = { graph: g, store: new ParamStore(be, g, other) };
    const sim = await outputSimilarity(be, student, teacher, ds);
    expect(sim.map((s) => [s.output, s.shape, s.images])).toEqual([['fc2', [3], 6], ['relu1', [8], 6]]);
    const self = await outputSimilarity(be, teacher, teacher, ds);
    expect(self.map((s) => [s.sqnr_db, s.cosine])).toEqual([[Infinity, 1], [Infinity, 1]]);
    // loss = MSE(fc2) + MSE(relu1), recomputed from the two models' outputs.
    const [ty, th] = await run(g, host), [sy, sh] = await run(g, other);
    const mse = (a: Float32Array, b: Float32Array) => a.reduce((s, x, i) => s + (x - b[i]) ** 2, 0) / a.length;
    const opt = new Optimizer(be, [...student.store.vars.values()], { name: 'sgd', lr: 0 });
    const loss = await distillStep(be, student, teacher, new Set(), { loss: 'mse', featureWeight: 0, withLabels: false }, opt, batch, true);
    expect(loss).toBeCloseTo(mse(sy, ty) + mse(sh, th), 6);
    opt.dispose();
    teacher.store.dispose();
    student.store.dispose();
  });
});
