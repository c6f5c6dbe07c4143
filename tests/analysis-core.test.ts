/**
 * The analysis building blocks: output distances against their closed forms, per-site precision routing against
 * the models it routes to, layer statistics against direct sums, the bad-case order, the weight comparison on a
 * planted outlier channel, and the int16 overrides / ranking binding that `calib --int16-top K` relies on.
 */
import { describe, expect, it } from 'vitest';
import { Tape } from '../src/engine/autograd.ts';
import { createCpuBackend } from '../src/engine/reference/cpu-backend.ts';
import type { ImageDataset } from '../src/data/dataset.ts';
import type { Batch } from '../src/data/loader.ts';
import { fuse } from '../src/graph/passes/fuse.ts';
import { buildModel } from '../src/models/zoo.ts';
import { runGraph, type Hooks } from '../src/nn/executor.ts';
import { initHostParams, ParamStore } from '../src/nn/params.ts';
import { calibrate } from '../src/quant/calibrate.ts';
import { prepare } from '../src/quant/prepare.ts';
import { convert } from '../src/quant/convert.ts';
import { qconfigTemplate, specsFor } from '../src/quant/qconfig.ts';
import { QuantizedModel } from '../src/quant/quantized-model.ts';
import { findBadCases } from '../src/quant/analysis/bad-cases.ts';
import { rowDistance, setDistance, worseFirst } from '../src/quant/analysis/distance.ts';
import { allInt16, int16Overrides, topSites, withInt16Sites } from '../src/quant/analysis/int16-sites.ts';
import { LayerAccumulator } from '../src/quant/analysis/layer-stats.ts';
import { rankingFor } from '../src/quant/analysis/report.ts';
import { int16For, onlyFloat, onlyQuantized, sitesOf } from '../src/quant/analysis/site-precision.ts';
import { collectBatches, type StageRunner } from '../src/quant/analysis/stage-runner.ts';
import { acc1Of, sensitivity } from '../src/quant/analysis/sensitivity.ts';
import { classScoresOutput, outputsDistance } from '../src/quant/analysis/outputs.ts';
import { compareWeights } from '../src/quant/analysis/weight-compare.ts';
import { mulberry32 } from './helpers/random.ts';

describe('output distances', () => {
  const a = [1, 0], b = [0, 1];
  it('match their closed forms on orthogonal one-hot rows', () => {
    expect(rowDistance('l1', a, b, 0, 2)).toBe(2);
    expect(rowDistance('mse', a, b, 0, 2)).toBe(1);
    expect(rowDistance('cosine', a, b, 0, 2)).toBe(0);
    expect(rowDistance('sqnr', a, b, 0, 2)).toBeCloseTo(10 * Math.log10(0.5), 12);
    // KL(softmax([1,0]) || softmax([0,1])) = (p1 - p2)(ln p1 - ln p2) = tanh(1/2)
    expect(rowDistance('kl', a, b, 0, 2)).toBeCloseTo(Math.tanh(0.5), 12);
  });
  it('are zero (or perfect) for identical rows, and sort worst first in either direction', () => {
    const r = [0.3, -2, 5];
    expect(rowDistance('kl', r, r, 0, 3)).toBe(0);
    expect(rowDistance('cosine', r, r, 0, 3)).toBeCloseTo(1, 12);
    expect(rowDistance('sqnr', r, r, 0, 3)).toBe(Infinity);
    expect([0.9, 0.2, 0.5].sort(worseFirst('cosine'))).toEqual([0.2, 0.5, 0.9]);
    expect([0.9, 0.2, 0.5].sort(worseFirst('l1'))).toEqual([0.9, 0.5, 0.2]);
    // set SQNR is over all values, not a mean of per-row dB
    expect(setDistance('sqnr', [1, 0, 3, 0], [1, 1, 3, 0], 2, 2)).toBeCloseTo(10 * Math.log10(10), 12);
  });
});

function images(n: number, seed: number): ImageDataset {
  const r = mulberry32(seed);
  return {
    name: 'synthetic', count: n, channels: 1, height: 28, width: 28, numClasses: 10, classNames: [],
    images: Uint8Array.from({ length: n * 784 }, () => Math.floor(r() * 256)),
    labels: Uint8Array.from({ length: n }, (_, i) => i % 10),
  };
}

describe('per-site precision', () => {
  it('routes each site to float, the int8 model or the int16 model', async () => {
    const be = createCpuBackend();
    const g0 = buildModel('cnn-small');
    const f = fuse(g0, initHostParams(g0, 5));
    const store = new ParamStore(be, f.graph, f.host);
    const qc = qconfigTemplate('default_calibration', { observer: 'minmax' });
    const q8 = new QuantizedModel(be, prepare(f.graph, qc), store);
    const q16 = new QuantizedModel(be, prepare(f.graph, allInt16(qc)), store);
    await calibrate(q8, images(16, 1), { batchSize: 16 });
    await calibrate(q16, images(16, 1), { batchSize: 16 });
    const x = Float32Array.from(images(4, 3).images, (p) => p / 255);
    const out = async (hooks?: Hooks) => {
      const tape = new Tape(be, false, false);
      const o = await be.read(runGraph(tape, f.graph, store, tape.input(x, [4, 1, 28, 28]), { ...hooks }).output.value);
      tape.dispose();
      return Array.from(o);
    };
    const all = sitesOf(q8);
    expect(all.filter((s) => s.kind === 'weight')).toHaveLength(4);
    const float = await out(), int8 = await out(q8.hooks), int16 = await out(q16.hooks);
    expect(int8).not.toEqual(float);
    expect(await out(onlyQuantized(q8, all))).toEqual(int8);
    expect(await out(onlyFloat(q8, all))).toEqual(float);
    expect(await out(onlyQuantized(q8, []))).toEqual(float);
    expect(await out(int16For(q8, q16, all))).toEqual(int16);
    expect(await out(int16For(q8, q16, []))).toEqual(int8);
    // one site only: differs from both the float and the fully quantized model
    const one = await out(onlyQuantized(q8, [{ site: 'block2.conv', kind: 'activation' }]));
    expect(one).not.toEqual(float);
    expect(one).not.toEqual(int8);
  });
});

describe('sensitivity pass', () => {
  it('each site run from the float / quantized values before it gives what a whole run with that one site changed gives', async () => {
    const be = createCpuBackend();
    const g0 = buildModel('mlp'); // small enough for the CPU backend (the residual case: the test below)
    const f = fuse(g0, initHostParams(g0, 6));
    const store = new ParamStore(be, f.graph, f.host);
    const qm = new QuantizedModel(be, prepare(f.graph, qconfigTemplate('default_calibration', { observer: 'minmax', weightBits: 4 })), store);
    await calibrate(qm, images(16, 1), { batchSize: 16 });
    qm.setState('VALIDATION');
    const batches = collectBatches(images(10, 4), 6, 'pixel/255'); // two batches, the second short
    let passes = 0;
    const s = await sensitivity(be, qm, batches, 'mse', { onBatch: () => passes++ });
    const sites = sitesOf(qm);
    expect(passes).toBe(batches.length * (2 + 2 * sites.length));
    const whole = async (hooks?: Hooks) => {
      const parts: number[] = [];
      for (const b of batches) {
        const tape = new Tape(be, false, false);
        parts.push(...(await be.read(runGraph(tape, f.graph, store, tape.input(b.x, b.shape), { ...hooks }).output.value)).subarray(0, b.n * 10));
        tape.dispose();
      }
      return Float32Array.from(parts);
    };
    const ref = await whole(), full = await whole(qm.hooks);
    const outs = classScoresOutput(10);
    expect(s.distance_quantized).toBe(outputsDistance('mse', outs, [ref], [full], 10));
    let differ = 0;
    for (const site of sites) {
      const e = s.ranking.find((r) => r.site === site.site && r.kind === site.kind)!;
      const q = await whole(onlyQuantized(qm, [site])), fl = await whole(onlyFloat(qm, [site]));
      expect(e.distance_only_this_quantized).toBe(outputsDistance('mse', outs, [ref], [q], 10));
      expect(e.distance_only_this_float).toBe(outputsDistance('mse', outs, [ref], [fl], 10));
      expect(e.acc1_only_this_quantized).toBe(acc1Of([q], batches, outs));
      expect(e.acc1_only_this_float).toBe(acc1Of([fl], batches, outs));
      if (e.distance_only_this_quantized > 0 && e.distance_only_this_float !== s.distance_quantized) differ++;
    }
    expect(differ).toBe(sites.length); // every site matters: the comparison is not between equal runs
    qm.dispose();
    store.dispose();
  });

  it('a run given earlier values computes only the nodes after them', async () => {
    const be = createCpuBackend();
    const g0 = buildModel('cnn-small');
    const f = fuse(g0, initHostParams(g0, 7));
    const store = new ParamStore(be, f.graph, f.host);
    const x = Float32Array.from(images(2, 5).images, (p) => p / 255);
    const t1 = new Tape(be, false, false), t2 = new Tape(be, false, false);
    const a = runGraph(t1, f.graph, store, t1.input(x, [2, 1, 28, 28]), { keep: () => true });
    const cut = f.graph.nodes.findIndex((n) => n.id === 'block3.conv');
    const given = new Map([...a.values].filter(([id]) => f.graph.nodes.findIndex((n) => n.id === id) < cut));
    const ran: string[] = [];
    const b = runGraph(t2, f.graph, store, t1.input(x, [2, 1, 28, 28]), { given, keep: () => true, hook: (n, v) => (ran.push(n.id), v) });
    expect(Array.from(await be.read(b.output.value))).toEqual(Array.from(await be.read(a.output.value)));
    expect(ran).toEqual(f.graph.nodes.slice(cut).map((n) => n.id));
    // block1 is needed by nothing after block3 (block2 is, by the add): skipped, not given back
    expect(b.values.has('block1.conv')).toBe(false);
    expect(b.values.get('block2.conv')).toBe(a.values.get('block2.conv'));
    t1.dispose();
    t2.dispose();
    store.dispose();
  });
});

describe('layer statistics', () => {
  it('agree with direct sums, clip shares on the given grid', () => {
    const a = Float32Array.from([1, -2, 3, 40]), b = Float32Array.from([1, -2, 3.5, 12.7]);
    const acc = new LayerAccumulator('l', 3, null, { scale: 0.1, quantMin: -128, quantMax: 127 });
    acc.add(a, b);
    const r = acc.result();
    const dot = 1 + 4 + 10.5 + 40 * 12.7, na = 1 + 4 + 9 + 1600, nb = 1 + 4 + 12.25 + 12.7 ** 2;
    expect(r.cosine).toBeCloseTo(dot / Math.sqrt(na * nb), 5);
    expect(r.sqnr_db).toBeCloseTo(10 * Math.log10(na / (0.25 + 27.3 ** 2)), 4);
    expect(r.max_abs_error).toBeCloseTo(27.3, 5);
    expect(r.mean_error).toBeCloseTo((0.5 - 27.3) / 4, 5);
    expect(r.a).toMatchObject({ min: -2, max: 40, clipped: null });
    expect(r.b.clipped).toBe(0.25); // 12.7 / 0.1 = 127 is at the end of the int8 range
    expect(r.a.mean).toBeCloseTo(42 / 4, 6);
  });
});

describe('bad cases', () => {
  it('lists disagreements first, then by distance; agreement and accuracies per stage', async () => {
    const K = 3;
    // rows of stage a and b for 4 images; labels 0,1,2,0
    const la = [5, 0, 0, 0, 5, 0, 0, 0, 5, 5, 0, 0], lb = [4, 0, 0, 0, 0, 5, 0, 0, 5, 5, 1, 0];
    const batch: Batch = { x: new Float32Array(4), labels: Float32Array.from([0, 1, 2, 0]), n: 4, indices: Uint32Array.from([10, 11, 12, 13]), shape: [4, 1, 1, 1] };
    const runner = (name: 'float' | 'calib', l: number[]): StageRunner => ({ name, grids: new Map(), run: async () => ({ logits: Float32Array.from(l), values: new Map() }) });
    const r = await findBadCases([batch], K, runner('float', la), runner('calib', lb), 'l1', 3);
    expect(r.worst.map((c) => c.index)).toEqual([11, 10, 13]);
    expect(r.worst[0]).toMatchObject({ label: 1, pred_a: 1, pred_b: 2, disagree: true, distance: 10 });
    expect(r.agreement_top1).toBe(75);
    expect(r.acc1_a).toBe(100);
    expect(r.acc1_b).toBe(75);
  });
});

describe('weight comparison', () => {
  it('finds the outlier channel; other errors stay within half a step', () => {
    const g0 = buildModel('cnn-small');
    const f = fuse(g0, initHostParams(g0, 2));
    const plan = prepare(f.graph, qconfigTemplate('default_calibration'));
    const ws = plan.weights[1];
    const w = Float32Array.from(f.host[ws.param]);
    const inner = w.length / ws.channels;
    w[7 * inner + 3] = 50; // one huge weight in output channel 7
    const rows = compareWeights(plan, { ...f.host, [ws.param]: w });
    const row = rows.find((r) => r.layer === ws.node)!;
    expect(row.worst_channels[0]).toBe(7);
    expect(row.scale_ratio).toBeGreaterThan(50);
    for (const c of row.per_channel) expect(c.max_error_lsb).toBeLessThanOrEqual(0.5 + 1e-3);
    expect(row.per_channel[7].scale).toBeCloseTo(50 / 127.5, 6);
  });
});

describe('int16 for chosen sites', () => {
  it('overrides exactly the chosen activation or weight sites', () => {
    const qc = withInt16Sites(qconfigTemplate('default_calibration'), [{ site: 'block2.conv', kind: 'activation' }, { site: 'fc', kind: 'weight' }]);
    expect(specsFor(qc, 'block2.conv').activation.dtype).toBe('qint16');
    expect(specsFor(qc, 'block2.conv').weight.dtype).toBe('qint8');
    expect(specsFor(qc, 'block3.conv').activation.dtype).toBe('qint8');
    expect(specsFor(qc, 'fc').weight.dtype).toBe('qint16');
    expect(int16Overrides([{ site: 'a*b', kind: 'activation' }])[0].match).toBe('a?b');
  });
  it('an int16 weight site runs in fake quant but is refused by the converter, by name', () => {
    const g0 = buildModel('cnn-small');
    const f = fuse(g0, initHostParams(g0, 2));
    const plan = prepare(f.graph, withInt16Sites(qconfigTemplate('default_calibration'), [{ site: 'fc', kind: 'weight' }]));
    expect(plan.weights.find((w) => w.node === 'fc')!.quantMax).toBe(32767);
    const scales = Object.fromEntries(plan.acts.map((a) => [a.node, 0.05]));
    expect(() => convert(plan, f.host, scales)).toThrow(/fc: qint16 weights are not supported by the simulator/);
  });

  it('reads the top K of a ranking only for the model it belongs to', () => {
    const analyze = { model: 'cnn-small', sensitivity: [{ site: 'block1', kind: 'activation' }, { site: 'fc', kind: 'weight' }] };
    expect(topSites(rankingFor(analyze, 'cnn-small', 'r.json'), 1)).toEqual([{ site: 'block1', kind: 'activation' }]);
    expect(() => rankingFor(analyze, 'mlp', 'r.json')).toThrow(/r\.json: the sensitivity ranking is of model cnn-small, not mlp/);
    expect(() => rankingFor(undefined, 'mlp', 'r.json')).toThrow(/run the analyze stage first/);
    expect(() => topSites([{ site: 'x', kind: 'bias' }], 1)).toThrow(/kind "bias"/);
  });
});
