/**
 * Automatic calibration (src/quant/ptq/auto-calib.ts), checked by brute force on a tiny model (the zoo MLP,
 * random weights, synthetic images, CPU backend), on its own path (prepared models that hold only the sites asked
 * for, the model's own fake-quant hooks): first every candidate calibrates the whole model alone (each site observed
 * on float values) and the one with the smallest final-output distance to the float model (L2, or the softmax KL) is the start; then, per site in
 * order, each candidate observes the site with the sites before it quantized at their chosen scales, and the site
 * takes the candidate whose scale (the others as chosen so far) gives the smallest L2, if it is below the current
 * one. The test checks every scale, distance and choice reported, and that the result's L2 is at most the start's.
 */
import { describe, expect, it } from 'vitest';
import { Tape } from '../src/engine/autograd.ts';
import { createCpuBackend } from '../src/engine/reference/cpu-backend.ts';
import type { ImageDataset } from '../src/data/dataset.ts';
import { normalizeImages } from '../src/data/loader.ts';
import { fuse } from '../src/graph/passes/fuse.ts';
import { buildModel } from '../src/models/zoo.ts';
import { runGraph } from '../src/nn/executor.ts';
import { initHostParams, ParamStore } from '../src/nn/params.ts';
import { createObserver } from '../src/quant/observers/index.ts';
import { prepare, type QuantPlan } from '../src/quant/prepare.ts';
import { qconfigTemplate } from '../src/quant/qconfig.ts';
import { QuantizedModel } from '../src/quant/quantized-model.ts';
import { autoCalibrate, checkCandidates, withDefaults } from '../src/quant/ptq/auto-calib.ts';
import { calibrate } from '../src/quant/calibrate.ts';
import { criterionDistance } from '../src/quant/ptq/auto-calib-criteria.ts';
import { mulberry32 } from './helpers/random.ts';

function images(n: number, seed: number): ImageDataset {
  const r = mulberry32(seed);
  const px = new Uint8Array(n * 784);
  // sparse bright strokes plus a few outliers: observers disagree on such data
  for (let i = 0; i < px.length; i++) px[i] = r() < 0.3 ? Math.floor(r() * 120) : r() < 0.02 ? 255 : 0;
  return { name: 'synthetic', count: n, channels: 1, height: 28, width: 28, numClasses: 10, classNames: [], images: px, labels: new Uint8Array(n) };
}

describe('automatic calibration', () => {
  // Each criterion computed here on its own: the logit L2, and the mean KL of the softmax outputs.
  const softmax = (a: Float32Array, i: number, k: number) => {
    const row = Array.from(a.subarray(i * k, (i + 1) * k));
    const m = Math.max(...row);
    const e = row.map((v) => Math.exp(v - m));
    const s = e.reduce((x, y) => x + y, 0);
    return e.map((v) => v / s);
  };
  const criteria = {
    l2: (out: Float32Array, ref: Float32Array) => Math.sqrt(out.reduce((s, v, i) => s + (v - ref[i]) ** 2, 0)),
    kl: (out: Float32Array, ref: Float32Array) => {
      const n = out.length / 10;
      let s = 0;
      for (let i = 0; i < n; i++) {
        const p = softmax(ref, i, 10), q = softmax(out, i, 10);
        for (let c = 0; c < 10; c++) s += p[c] * Math.log(p[c] / q[c]);
      }
      return s / n;
    },
  };

  // Relative: the KL distances are small numbers.
  const close = (got: number, want: number) => expect(Math.abs(got - want)).toBeLessThanOrEqual(1e-4 * Math.abs(want) + 1e-9);

  it.each(['l2', 'kl'] as const)('picks, per site, the candidate with the smallest final-output distance (%s, brute force on the MLP)', async (criterion) => {
    const be = createCpuBackend();
    const g0 = buildModel('mlp');
    const f = fuse(g0, initHostParams(g0, 3));
    const plan = prepare(f.graph, qconfigTemplate('default_calibration', { weightBits: 4 }));
    const store = new ParamStore(be, f.graph, f.host);
    const qm = new QuantizedModel(be, plan, store);
    const ds = images(24, 7);
    const candidates = checkCandidates(['minmax', 'percentile', 'mse']);
    const rep = await autoCalibrate(qm, ds, { candidates, batchSize: 12, criterion });
    expect(rep.criterion).toBe(criterion);
    expect(rep.choices.map((c) => c.site)).toEqual(plan.acts.map((a) => a.node));

    const x = normalizeImages(ds, 'pixel/255');
    const shape = [ds.count, 1, 28, 28];
    const run = async (p: QuantPlan, scales: ReadonlyMap<string, number>, keep?: string) => {
      const m = new QuantizedModel(be, p, store);
      const host: Record<string, Float32Array> = {};
      for (const [id, s] of scales) {
        host[`qsite:${id}:qparams`] = new Float32Array([s, Math.fround(1 / Math.fround(s)), 0]);
        host[`qsite:${id}:running`] = new Float32Array([-127.5 * s, 127.5 * s]);
      }
      m.loadHost(host);
      const tape = new Tape(be, false, false);
      const r = runGraph(tape, p.graph, store, tape.input(x, shape), { ...(p.acts.length || p.weights.length ? m.hooks : {}), keep: (n) => n.id === keep });
      const out = await be.read(r.output.value);
      const kept = keep ? await be.read(r.values.get(keep)!.value) : null;
      tape.dispose();
      m.dispose();
      return { out, kept };
    };
    const float = (await run({ ...plan, acts: [], weights: [] }, new Map())).out;
    const l2Of = async (scales: ReadonlyMap<string, number>) => {
      return criteria[criterion]((await run(plan, scales)).out, float);
    };
    // A candidate's scale for site i, observing it with the sites before it quantized at `scales` (none: the float model).
    const scaleOf = async (name: string, i: number, scales: ReadonlyMap<string, number> | null) => {
      const a = plan.acts[i];
      const { kept } = await run(scales ? { ...plan, acts: plan.acts.slice(0, i) } : { ...plan, acts: [], weights: [] }, scales ?? new Map(), a.node);
      const ob = createObserver(name, { dtype: 'qint8', quantMin: a.quantMin, quantMax: a.quantMax, march: 'bayes' });
      // the same batches as the calibration (12 + 12 images)
      const per = kept!.length / ds.count;
      ob.observe(kept!.slice(0, 12 * per), [12, per]);
      ob.observe(kept!.slice(12 * per), [12, per]);
      return ob.calculateQParams().scale[0];
    };

    // The uniform assignments: every site observed on float values (no site before it quantized).
    const uniformL2: number[] = [];
    const uniformScales: Map<string, number>[] = [];
    for (const name of candidates) {
      const scales = new Map<string, number>();
      for (let i = 0; i < plan.acts.length; i++) scales.set(plan.acts[i].node, await scaleOf(name, i, null));
      uniformScales.push(scales);
      uniformL2.push(await l2Of(scales));
    }
    expect(rep.uniform.map((u) => u.observer)).toEqual(candidates);
    rep.uniform.forEach((u, k) => close(u.distance, uniformL2[k]));
    const startK = uniformL2.indexOf(Math.min(...uniformL2));
    expect(rep.start).toBe(candidates[startK]);

    const chosen = new Map(uniformScales[startK]);
    let current = uniformL2[startK];
    let nontrivial = 0;
    for (let i = 0; i < plan.acts.length; i++) {
      const a = plan.acts[i];
      const c = rep.choices[i];
      expect(c.candidates[0]).toMatchObject({ observer: 'current', scale: chosen.get(a.node) });
      close(c.candidates[0].distance, current);
      const l2s: number[] = [];
      for (const name of candidates) {
        const scale = await scaleOf(name, i, chosen);
        const l2 = await l2Of(new Map([...chosen, [a.node, scale]]));
        const got = c.candidates.find((t) => t.observer === name)!;
        expect(got.scale).toBe(scale);
        close(got.distance, l2);
        l2s.push(l2);
      }
      const best = Math.min(...l2s);
      if (Math.max(...l2s) > best * 1.0001) nontrivial++;
      if (best < current * (1 - 1e-4)) {
        expect(c.changed).toBe(true);
        expect(c.observer).toBe(candidates[l2s.indexOf(best)]);
        current = best;
      } else if (best > current * (1 + 1e-4)) {
        expect(c.changed).toBe(false);
        expect(c.observer).toBe(candidates[startK]);
      }
      expect(c.scale).toBe(c.changed ? c.candidates.find((t) => t.observer === c.observer)!.scale : chosen.get(a.node));
      chosen.set(a.node, c.scale);
    }
    console.log(`uniform: ${rep.uniform.map((u) => `${u.observer} ${u.distance.toPrecision(4)}`).join(', ')}; start ${rep.start}\n` +
      rep.choices.map((c) => `${c.site}: ${c.observer}${c.changed ? ' (changed)' : ''} (${c.candidates.map((t) => `${t.observer} ${t.distance.toPrecision(4)}`).join(', ')})`).join('\n'));
    expect(nontrivial).toBeGreaterThan(0);
    close(rep.distance, await l2Of(chosen));
    expect(rep.distance).toBeLessThanOrEqual(Math.min(...uniformL2) * (1 + 1e-6));
    // the model now holds the chosen scales
    const sc = await qm.scales();
    for (const c of rep.choices) expect(sc.activations[c.site]).toBe(Math.fround(c.scale));
    qm.dispose();
    store.dispose();
  }, 300_000);

  it('starts from what a calibration with each single observer gives', async () => {
    const be = createCpuBackend();
    const g0 = buildModel('mlp');
    const f = fuse(g0, initHostParams(g0, 4));
    const store = new ParamStore(be, f.graph, f.host);
    const ds = images(24, 9);
    const candidates = ['minmax', 'percentile', 'kl'];
    const qm = new QuantizedModel(be, prepare(f.graph, qconfigTemplate('default_calibration')), store);
    const rep = await autoCalibrate(qm, ds, { candidates, batchSize: 12 });
    for (const [k, observer] of candidates.entries()) {
      const single = new QuantizedModel(be, prepare(f.graph, qconfigTemplate('default_calibration', { observer })), store);
      await calibrate(single, ds, { batchSize: 12, normalize: 'pixel/255' });
      const sc = await single.scales();
      for (const [site, scale] of Object.entries(rep.uniform[k].scales)) expect(sc.activations[site]).toBe(Math.fround(scale));
      single.dispose();
    }
    qm.dispose();
    store.dispose();
  }, 120_000);

  it('scores the loss criterion as the mean cross-entropy to the labels, and needs labels for it', async () => {
    // two rows of 10 logits: row 0 puts all weight on class 3 (label 3), row 1 is uniform (label 7)
    const out = new Float32Array(20);
    out[3] = 50;
    expect(criterionDistance('loss', [out], [out], [Float32Array.of(3, 7)], 10)).toBeCloseTo((0 + Math.log(10)) / 2, 6);
    expect(criterionDistance('kl', [out], [out], [Float32Array.of(-1, -1)], 10)).toBe(0);
    expect(() => criterionDistance('loss', [out], [out], [Float32Array.of(3, -1)], 10)).toThrow(/loss criterion needs labelled/);
    const be = createCpuBackend();
    const g0 = buildModel('mlp');
    const f = fuse(g0, initHostParams(g0, 3));
    const store = new ParamStore(be, f.graph, f.host);
    const qm = new QuantizedModel(be, prepare(f.graph, qconfigTemplate('default_calibration')), store);
    await expect(autoCalibrate(qm, { ...images(4, 1), labels: null, numClasses: 0 }, { candidates: ['mse'], batchSize: 4, criterion: 'loss' }))
      .rejects.toThrow(/loss criterion needs labelled calibration images \(use l2 or kl\)/);
    qm.dispose();
    store.dispose();
  });

  it('rejects an unknown or unsuitable candidate', () => {
    expect(() => checkCandidates(['mse', 'nope'])).toThrow(/not a candidate observer/);
    expect(() => checkCandidates(['per_channel_minmax'])).toThrow(/not a candidate observer/);
    expect(() => checkCandidates([])).toThrow(/at least one/);
    expect(() => checkCandidates(['mse:3'])).toThrow(/"mse:3": mse takes no parameter/);
    expect(() => checkCandidates(['percentile:101'])).toThrow(/"percentile:101": the parameter of percentile must be a percentage in \(0, 100\]/);
    expect(() => checkCandidates(['clip_std:x'])).toThrow(/standard deviations/);
    expect(checkCandidates(['percentile:99.9', 'clip_std:4', 'percentile:99.9'])).toEqual(['percentile:99.9', 'clip_std:4']);
    expect(withDefaults(['minmax', 'percentile:99.9', 'clip_std:4', 'percentile:50'])).toEqual(['minmax', 'percentile:99.9', 'clip_std:4', 'clip_std', 'percentile:50', 'percentile']);
    expect(withDefaults(['percentile', 'percentile:99.9'])).toEqual(['percentile', 'percentile:99.9']);
  });

  it('tries an observer with each parameter given (percentile:P), as that observer configured so, and at its defaults too', async () => {
    const be = createCpuBackend();
    const g0 = buildModel('mlp');
    const f = fuse(g0, initHostParams(g0, 3));
    const plan = prepare(f.graph, qconfigTemplate('default_calibration'));
    const store = new ParamStore(be, f.graph, f.host);
    const qm = new QuantizedModel(be, plan, store);
    // percentile itself not asked for: added (the start must include every named observer at its defaults)
    const rep = await autoCalibrate(qm, images(12, 5), { candidates: ['percentile:99.99', 'percentile:50'], batchSize: 12 });
    expect(rep.candidates).toEqual(['percentile:99.99', 'percentile:50', 'percentile']);
    expect(rep.uniform.map((u) => u.observer)).toEqual(rep.candidates);
    const first = rep.choices[1]; // the first site after the input stub
    const [, same, low, dflt] = first.candidates; // [0]: the site's current scale
    expect([same.observer, low.observer, dflt.observer]).toEqual(['percentile:99.99', 'percentile:50', 'percentile']);
    expect(same.scale).toBe(dflt.scale); // 99.99 is the observer's default
    expect(low.scale).toBeLessThan(dflt.scale);
    qm.dispose();
    store.dispose();
  }, 120_000);
});
