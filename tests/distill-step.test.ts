/**
 * The distillation step on the CPU reference: its loss is the output term plus the weighted mean of the per-site
 * feature terms (recomputed here from the two models' values), zero when the student is the teacher; SGD steps
 * bring a perturbed student's outputs towards the teacher's without labels; KL refuses outputs that are not logits.
 */
import { describe, expect, it } from 'vitest';
import { Tape } from '../src/engine/autograd.ts';
import { createCpuBackend } from '../src/engine/reference/cpu-backend.ts';
import { Optimizer } from '../src/engine/optim/optimizer.ts';
import { iterateBatches } from '../src/data/loader.ts';
import { withoutLabels, type ImageDataset } from '../src/data/dataset.ts';
import type { Graph } from '../src/graph/ir.ts';
import { buildModel } from '../src/models/zoo.ts';
import { runGraph } from '../src/nn/executor.ts';
import { initHostParams, ParamStore, type HostParams } from '../src/nn/params.ts';
import { checkDistill, distillStep } from '../src/train/distill.ts';
import type { ModelRun } from '../src/quant/output-similarity.ts';

const be = createCpuBackend();
const graph = buildModel('mlp', { inputShape: [1, 4, 4], numClasses: 3 });
const teacherHost = initHostParams(graph, 1);

function data(n: number): ImageDataset {
  return withoutLabels({
    name: 'toy', images: Uint8Array.from({ length: n * 16 }, (_, i) => (i * 53 + 7) & 255), labels: new Uint8Array(n),
    count: n, channels: 1, height: 4, width: 4, numClasses: 3, classNames: ['a', 'b', 'c'],
  });
}

function perturbed(h: HostParams, eps: number): HostParams {
  const out: HostParams = {};
  for (const [k, v] of Object.entries(h)) out[k] = v.map((x, i) => x + eps * Math.sin(i * 1.7 + k.length));
  return out;
}

const mse = (a: Float32Array, b: Float32Array) => a.reduce((s, x, i) => s + (x - b[i]) ** 2, 0) / a.length;

async function values(run: ModelRun, x: Float32Array, shape: readonly number[], keep: Set<string>): Promise<Map<string, Float32Array>> {
  const tape = new Tape(be, false, false);
  try {
    const r = runGraph(tape, run.graph, run.store, tape.input(x, shape), { keep: (n) => keep.has(n.id) });
    const out = new Map<string, Float32Array>([['@out', await be.read(r.output.value)]]);
    for (const [id, v] of r.values) out.set(id, await be.read(v.value));
    return out;
  } finally {
    tape.dispose();
  }
}

describe('distillation step', () => {
  const teacher: ModelRun = { graph, store: new ParamStore(be, graph, teacherHost) };
  const sites = new Set(['relu1', 'relu2']);
  const batch = [...iterateBatches(data(8), 8, 0, 0, { shuffle: false })][0];

  it('loss = MSE(output) + w * mean over sites of MSE(feature), and 0 for the teacher itself', async () => {
    const student: ModelRun = { graph, store: new ParamStore(be, graph, perturbed(teacherHost, 0.05)) };
    const opt = new Optimizer(be, [...student.store.vars.values()], { name: 'sgd', lr: 0 });
    const t = await values(teacher, batch.x, batch.shape, sites), s = await values(student, batch.x, batch.shape, sites);
    const want = mse(s.get('@out')!, t.get('@out')!) + (0.5 / 2) * (mse(s.get('relu1')!, t.get('relu1')!) + mse(s.get('relu2')!, t.get('relu2')!));
    const got = await distillStep(be, student, teacher, sites, { loss: 'mse', featureWeight: 0.5, withLabels: false }, opt, batch, true);
    expect(got).toBeGreaterThan(0);
    expect(got).toBeCloseTo(want, 6);
    const same: ModelRun = { graph, store: new ParamStore(be, graph, teacherHost) };
    const zero = await distillStep(be, same, teacher, sites, { loss: 'kl', featureWeight: 1, withLabels: false }, new Optimizer(be, [...same.store.vars.values()], { name: 'sgd', lr: 0 }), batch, true);
    expect(Math.abs(zero)).toBeLessThan(1e-6);
    opt.dispose();
    student.store.dispose();
    same.store.dispose();
  });

  it('SGD steps on images alone bring the student to the teacher (MSE and KL)', async () => {
    for (const loss of ['mse', 'kl'] as const) {
      const student: ModelRun = { graph, store: new ParamStore(be, graph, perturbed(teacherHost, 0.1)) };
      const opt = new Optimizer(be, [...student.store.vars.values()], { name: 'sgd', lr: loss === 'kl' ? 0.5 : 0.2 });
      const gap = async () => mse((await values(student, batch.x, batch.shape, new Set())).get('@out')!, (await values(teacher, batch.x, batch.shape, new Set())).get('@out')!);
      const before = await gap();
      const losses: number[] = [];
      for (let k = 0; k < 15; k++) losses.push(await distillStep(be, student, teacher, sites, { loss, featureWeight: 0, withLabels: false }, opt, batch, true));
      const after = await gap();
      expect(losses.at(-1)!, `${loss} losses ${losses.map((l) => l.toPrecision(3)).join(', ')}`).toBeLessThan(losses[0]);
      expect(after, `${loss}: output MSE to the teacher ${before} -> ${after}`).toBeLessThan(before * 0.9);
      opt.dispose();
      student.store.dispose();
    }
  });

  it('refuses KL on an output that is not [N, K] logits, and bad settings', () => {
    const fmap = { ...graph, nodes: [{ ...graph.nodes[0], id: 'map', shape: [8, 4, 4] }], output: 'map' } as Graph;
    expect(() => checkDistill({ loss: 'kl', featureWeight: 0, withLabels: false }, fmap)).toThrow('KL distillation needs logits [N, K], but output map is [N, 8, 4, 4]: use the MSE loss');
    expect(() => checkDistill({ loss: 'mse', featureWeight: 0, withLabels: false }, fmap)).not.toThrow();
    expect(() => checkDistill({ loss: 'mse', featureWeight: -1, withLabels: false }, graph)).toThrow('feature weight must be a number >= 0, got -1');
  });
});
