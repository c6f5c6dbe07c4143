/**
 * Automatic calibration's guards against fitting the noise of the selection images (src/quant/ptq/auto-calib.ts):
 * the gate (a site moves only where a lower candidate's paired per-image z of improvement reaches it), and scoring
 * on more images than the observers see. On the zoo MLP with random weights and synthetic images (CPU backend),
 * the per-image criterion and the z of one move recomputed here from the model's own outputs.
 */
import { describe, expect, it } from 'vitest';
import { Tape } from '../src/engine/autograd.ts';
import { createCpuBackend } from '../src/engine/reference/cpu-backend.ts';
import { firstN, type ImageDataset } from '../src/data/dataset.ts';
import { normalizeImages } from '../src/data/loader.ts';
import { fuse } from '../src/graph/passes/fuse.ts';
import { buildModel } from '../src/models/zoo.ts';
import { runGraph } from '../src/nn/executor.ts';
import { initHostParams, ParamStore } from '../src/nn/params.ts';
import { prepare, type QuantPlan } from '../src/quant/prepare.ts';
import { qconfigTemplate } from '../src/quant/qconfig.ts';
import { QuantizedModel } from '../src/quant/quantized-model.ts';
import { autoCalibrate, type AutoCalibReport } from '../src/quant/ptq/auto-calib.ts';
import { criterionDistance, criterionPerImage, pairedImprovement } from '../src/quant/ptq/auto-calib-criteria.ts';
import { mulberry32 } from './helpers/random.ts';

function images(n: number, seed: number): ImageDataset {
  const r = mulberry32(seed);
  const px = new Uint8Array(n * 784);
  for (let i = 0; i < px.length; i++) px[i] = r() < 0.3 ? Math.floor(r() * 120) : r() < 0.02 ? 255 : 0;
  return { name: 'synthetic', count: n, channels: 1, height: 28, width: 28, numClasses: 10, classNames: [], images: px, labels: new Uint8Array(n) };
}

/** The rule the report must follow at every site: move to the lowest candidate below the current distance whose z reaches the gate. */
function checkRule(rep: AutoCalibReport, gate: number) {
  for (const c of rep.choices) {
    if (!c.candidates.length) continue;
    const [cur, ...rest] = c.candidates;
    const passing = rest.filter((t) => t.distance < cur.distance && t.z! >= gate);
    const best = passing.reduce<(typeof rest)[number] | null>((b, t) => (!b || t.distance < b.distance ? t : b), null);
    expect(c.changed).toBe(best !== null);
    expect(c.gated).toBe(best === null && rest.some((t) => t.distance < cur.distance));
    expect(c.scale).toBe(best ? best.scale : cur.scale);
  }
}

describe('automatic calibration gate', () => {
  it('computes the paired z of per-image improvements, and the per-image criterion that sums to the distance', () => {
    // d = base - cand = [1, 1, 1, 0.5]: mean 0.875, sample sd 0.25, z = 0.875 / (0.25 / 2) = 7
    expect(pairedImprovement(Float64Array.of(1, 2, 3, 4), Float64Array.of(0, 1, 2, 3.5))).toBeCloseTo(7, 12);
    expect(pairedImprovement(Float64Array.of(0, 1, 2, 3.5), Float64Array.of(1, 2, 3, 4))).toBeCloseTo(-7, 12);
    expect(pairedImprovement(Float64Array.of(1, 2), Float64Array.of(1, 2))).toBe(0);
    expect(pairedImprovement(Float64Array.of(2, 3), Float64Array.of(1, 2))).toBe(Infinity);
    expect(() => pairedImprovement(Float64Array.of(1), Float64Array.of(1, 2))).toThrow(/1 vs 2 images/);
    // two rows of 3 logits against a reference
    const out = Float32Array.of(1, 0, 0, 0, 2, 0), ref = Float32Array.of(0, 0, 0, 0, 0, 3);
    expect([...criterionPerImage('l2', [out], [ref], [Float32Array.of(0, 1)], 3)]).toEqual([1, 4 + 9]);
    expect(criterionDistance('l2', [out], [ref], [Float32Array.of(0, 1)], 3)).toBeCloseTo(Math.sqrt(14), 12);
    const loss = criterionPerImage('loss', [out], [ref], [Float32Array.of(0, 1)], 3);
    expect(loss[0]).toBeCloseTo(-(1 - Math.log(Math.E + 2)), 12);
    expect(loss[1]).toBeCloseTo(-(2 - Math.log(Math.exp(2) + 2)), 12);
    expect(criterionDistance('loss', [out], [ref], [Float32Array.of(0, 1)], 3)).toBeCloseTo((loss[0] + loss[1]) / 2, 12);
  });

  it('keeps the starting observer where no move reaches the gate, and moves where one does (MLP, z recomputed)', async () => {
    const be = createCpuBackend();
    const g0 = buildModel('mlp');
    const f = fuse(g0, initHostParams(g0, 3));
    const plan = prepare(f.graph, qconfigTemplate('default_calibration', { weightBits: 4 }));
    const store = new ParamStore(be, f.graph, f.host);
    const ds = images(24, 7);
    const cfg = { candidates: ['minmax', 'percentile', 'mse'], batchSize: 12, criterion: 'kl' as const };
    const search = async (gate: number) => {
      const qm = new QuantizedModel(be, plan, store);
      try {
        return await autoCalibrate(qm, ds, { ...cfg, gate });
      } finally {
        qm.dispose();
      }
    };
    const free = await search(0);
    checkRule(free, 0);
    const moved = free.choices.findIndex((c) => c.changed);
    expect(moved).toBeGreaterThanOrEqual(0);
    const startScales = free.uniform.find((u) => u.observer === free.start)!.scales;

    // The z of the first move, from the model's own outputs: the per-image KL of the scales before the move and after.
    const x = normalizeImages(ds, 'pixel/255');
    const outputs = async (p: QuantPlan, scales: Record<string, number>) => {
      const m = new QuantizedModel(be, p, store);
      const host: Record<string, Float32Array> = {};
      for (const [id, s] of Object.entries(scales)) {
        host[`qsite:${id}:qparams`] = new Float32Array([s, Math.fround(1 / Math.fround(s)), 0]);
        host[`qsite:${id}:running`] = new Float32Array([-127.5 * s, 127.5 * s]);
      }
      m.loadHost(host);
      const tape = new Tape(be, false, false);
      const r = runGraph(tape, p.graph, store, tape.input(x, [ds.count, 1, 28, 28]), p.acts.length ? m.hooks : {});
      const out = await be.read(r.output.value);
      tape.dispose();
      m.dispose();
      return out;
    };
    const float = await outputs({ ...plan, acts: [], weights: [] }, {});
    const perImage = async (scales: Record<string, number>) => criterionPerImage('kl', [await outputs(plan, scales)], [float], [new Float32Array(ds.count)], 10);
    const site = free.choices[moved];
    const to = site.candidates.find((t) => t.observer === site.observer && t.scale === site.scale)!;
    const before = { ...startScales };
    const after = { ...startScales, [site.site]: site.scale };
    const z = pairedImprovement(await perImage(before), await perImage(after));
    expect(z).toBeGreaterThan(0);
    expect(Math.abs(to.z! - z)).toBeLessThanOrEqual(1e-3 * Math.abs(z));

    // A gate above every z: no site moves, the result is the start.
    const held = await search(1e9);
    checkRule(held, 1e9);
    expect(held.choices.every((c) => !c.changed)).toBe(true);
    expect(held.choices[moved].gated).toBe(true);
    for (const c of held.choices) if (c.candidates.length) expect(c.scale).toBe(startScales[c.site]);
    expect(held.distance).toBe(free.uniform.find((u) => u.observer === free.start)!.distance);

    // Just below and just above the first move's z: the site moves, then stays (unless another candidate passes).
    const below = await search(to.z! * (1 - 1e-6));
    checkRule(below, to.z! * (1 - 1e-6));
    expect(below.choices[moved].changed).toBe(true);
    const above = await search(to.z! * (1 + 1e-6));
    checkRule(above, to.z! * (1 + 1e-6));
    expect(above.choices[moved].scale).not.toBe(to.scale);
    expect(above.gate).toBe(to.z! * (1 + 1e-6));
    store.dispose();
  }, 300_000);

  it('observes on the first images only and scores on all of them', async () => {
    const be = createCpuBackend();
    const g0 = buildModel('mlp');
    const f = fuse(g0, initHostParams(g0, 4));
    const plan = prepare(f.graph, qconfigTemplate('default_calibration'));
    const store = new ParamStore(be, f.graph, f.host);
    const ds = images(36, 11);
    const cfg = { candidates: ['minmax', 'percentile', 'kl'], batchSize: 12 };
    const run = async (d: ImageDataset, observeImages?: number) => {
      const qm = new QuantizedModel(be, plan, store);
      try {
        return await autoCalibrate(qm, d, { ...cfg, observeImages });
      } finally {
        qm.dispose();
      }
    };
    const wide = await run(ds, 24);
    const narrow = await run(firstN(ds, 24));
    const all = await run(ds);
    expect([wide.images, wide.observe_images, narrow.images, narrow.observe_images]).toEqual([36, 24, 24, 24]);
    // the same observations (the first 24 images), so the same uniform scales; the distances over more images
    for (const [k, u] of wide.uniform.entries()) {
      expect(u.scales).toEqual(narrow.uniform[k].scales);
      expect(u.distance).not.toBe(narrow.uniform[k].distance);
    }
    // observing all 36 images gives other scales somewhere
    expect(all.uniform.some((u, k) => JSON.stringify(u.scales) !== JSON.stringify(wide.uniform[k].scales))).toBe(true);
    await expect(run(ds, 0)).rejects.toThrow(/observeImages must be a positive integer/);
    store.dispose();
  }, 120_000);
});
