/**
 * Data sets without labels: a dropped folder or zip whose images lie in one folder reads as unlabelled (labels null,
 * 80/20 random split); a labelled set can be used without its labels; steps that need labels say so; the summary,
 * batches and evaluation do without them. The output similarity measure against hand-computed values.
 */
import { describe, expect, it } from 'vitest';
import { zipSync } from 'fflate';
import { decodeDropped } from '../src/data/dropped.ts';
import { isUnlabelledLayout, randomSplit } from '../src/data/image-folder.ts';
import { fitsClasses, requireLabels, subset, validateDataset, withoutLabels, type ImageDataset } from '../src/data/dataset.ts';
import { iterateBatches } from '../src/data/loader.ts';
import { summarize } from '../src/data/summary.ts';
import { SimilarityAcc } from '../src/quant/output-similarity.ts';
import { createCpuBackend } from '../src/engine/reference/cpu-backend.ts';
import { buildModel } from '../src/models/zoo.ts';
import { initHostParams, ParamStore } from '../src/nn/params.ts';
import { evaluate } from '../src/train/evaluate.ts';
import { train } from '../src/train/trainer.ts';
import { decodeTestPng, makePng } from './helpers/png.ts';

const grey = (v: number) => makePng(6, 5, (x, y) => (v + x * 3 + y) & 255, false);

function labelled(n: number): ImageDataset {
  return {
    name: 'toy', images: Uint8Array.from({ length: n * 4 }, (_, i) => (i * 37) & 255), labels: Uint8Array.from({ length: n }, (_, i) => i % 2),
    count: n, channels: 1, height: 2, width: 2, numClasses: 2, classNames: ['a', 'b'],
  };
}

describe('a folder or zip of images without class folders', () => {
  it('tells the layouts apart: one folder (or the root) is unlabelled, several class folders are labelled', () => {
    expect(isUnlabelledLayout(['a.png', 'b.png'])).toBe(true);
    expect(isUnlabelledLayout(['street/a.png', 'street/b.png'])).toBe(true);
    expect(isUnlabelledLayout(['cat/a.png', 'dog/b.png'])).toBe(false);
    expect(isUnlabelledLayout(['data/cat/a.png', 'data/dog/b.png'])).toBe(false);
  });

  it('decodes a dropped folder of images as unlabelled, split 80/20 at random (seeded)', async () => {
    const files = Array.from({ length: 10 }, (_, i) => ({ path: `street/img${i}.png`, bytes: grey(i * 20) }));
    const out = await decodeDropped(files, decodeTestPng, { source: 'street' });
    const { train: tr, test } = out.data;
    expect([tr.labels, test.labels, tr.numClasses, tr.classNames, tr.count, test.count]).toEqual([null, null, 0, [], 8, 2]);
    expect(out.split).toBe('no class folders: unlabelled images, 80/20 random split (seed 0)');
    const split = randomSplit(10, 0.2, 0);
    // The test images are those of the split, in file order: image k's first pixel is 20k (x = y = 0).
    expect([...Array(test.count).keys()].map((k) => test.images[k * 30])).toEqual(split.test.map((i) => i * 20));
    expect([...split.train, ...split.test].sort((a, b) => a - b)).toEqual([...Array(10).keys()]);
    validateDataset(tr);
    const s = summarize(out.data, out.kind, out.split);
    expect([s.labelled, s.classNames, s.trainClassCounts, s.preview.count, s.preview.labels.every((l) => l === -1)]).toEqual([false, [], [], 8, true]);
    // A saved project brings it back (no class names is right for it, not damage).
    const { checkSavedData } = await import('../src/ui/persist/saved-data.ts');
    expect(() => checkSavedData({ summary: s, dataset: out.data })).not.toThrow();
    expect(() => checkSavedData({ summary: { ...s, labelled: true }, dataset: out.data })).toThrow('it has no class names');
  });

  it('decodes a zip of images at its top level the same way', async () => {
    const zip = zipSync(Object.fromEntries(Array.from({ length: 6 }, (_, i) => [`img${i}.png`, grey(i)])));
    const out = await decodeDropped([{ path: 'shots.zip', bytes: zip }], decodeTestPng);
    expect([out.kind, out.data.train.labels, out.data.train.count + out.data.test.count]).toEqual(['zip', null, 6]);
  });
});

describe('a labelled set used without its labels', () => {
  it('keeps the images, drops labels and classes; subsets keep it unlabelled', () => {
    const ds = labelled(6);
    const u = withoutLabels(ds);
    expect([u.labels, u.numClasses, u.classNames, u.images]).toEqual([null, 0, [], ds.images]);
    validateDataset(u);
    expect(subset(u, [5, 0]).labels).toBeNull();
    expect(fitsClasses(10, u)).toBe(true);
    expect(fitsClasses(10, ds)).toBe(false);
    expect(() => requireLabels(u, 'Top-1 accuracy')).toThrow('Top-1 accuracy needs labelled data, but toy has no labels: use calibration, distillation QAT (--distill) and output similarity to the float model instead');
    expect(requireLabels(ds, 'x')).toBe(ds);
  });

  it('batches carry label -1; evaluation has no accuracy; cross-entropy training refuses', async () => {
    const u = withoutLabels(labelled(6));
    const b = [...iterateBatches(u, 4, 0, 0)];
    expect([...b[0].labels, ...b[1].labels]).toEqual([-1, -1, -1, -1, -1, -1]);
    const be = createCpuBackend();
    const g = buildModel('mlp', { inputShape: [1, 2, 2], numClasses: 2 });
    const store = new ParamStore(be, g, initHostParams(g, 0));
    const ev = await evaluate(be, g, store, u);
    expect([ev.acc1, ev.acc5, ev.images]).toEqual([NaN, NaN, 6]);
    await expect(train(be, g, store, u, null, { epochs: 1, batchSize: 2, seed: 0, schedule: 'constant', optimizer: { name: 'sgd', lr: 0.1 } }))
      .rejects.toThrow('Training with cross-entropy (float training, labelled QAT) needs labelled data, but toy has no labels');
    store.dispose();
  });
});

describe('output similarity', () => {
  it('mean per-image cosine and SQNR over all elements, as computed by hand', () => {
    const a = new SimilarityAcc('out');
    // image 1: ref (3, 4), quant (3, 4): cosine 1, no error. image 2: ref (1, 0), quant (1, 1): cosine 1/sqrt(2), error 1.
    a.add(Float32Array.from([3, 4, 1, 0]), Float32Array.from([3, 4, 1, 1]), 2);
    const r = a.result();
    expect(r.images).toBe(2);
    expect(r.cosine).toBeCloseTo((1 + Math.SQRT1_2) / 2, 12);
    expect(r.sqnr_db).toBeCloseTo(10 * Math.log10(26 / 1), 12);
    const same = new SimilarityAcc('o');
    same.add(Float32Array.from([1, 2]), Float32Array.from([1, 2]), 1);
    expect(same.result().sqnr_db).toBe(Infinity);
  });
});

describe('the page\'s "use without labels" switch', () => {
  it('makes another data identity (results never cross), and the worker gets the images without labels', async () => {
    const { dataIdentity } = await import('../src/ui/scope/identity.ts');
    const { dataLabelled, DEFAULT_PREP } = await import('../src/ui/store/data-slice.ts');
    const { WorkerState } = await import('../src/train/worker-state.ts');
    const ds = labelled(10);
    const dataset = { train: ds, test: subset(ds, [0, 1]), source: 'toy' };
    const summary = summarize(dataset, 'image-folder', 's');
    const d = { status: 'ready' as const, summary, dataset, progress: null, error: null, prep: { ...DEFAULT_PREP } };
    const off = dataIdentity(d)!, on = dataIdentity({ ...d, prep: { ...d.prep, withoutLabels: true } })!;
    expect(on.key).not.toBe(off.key);
    expect(on.label).toBe(`${summary.name}, without labels`);
    expect([dataLabelled(d), dataLabelled({ ...d, prep: { ...d.prep, withoutLabels: true } })]).toEqual([true, false]);
    const w = new WorkerState(async () => dataset);
    w.setData({ kind: 'custom', data: dataset }, { yuv: false, normalize: 'pixel/255', withoutLabels: true });
    const jd = await w.data();
    expect([jd.train.labels, jd.test.labels, jd.train.count]).toEqual([null, null, 10]);
    w.setData({ kind: 'custom', data: dataset }, { yuv: false, normalize: 'pixel/255' });
    expect((await w.data()).train.labels).toBe(ds.labels);
  });
});
