/** The workflow slices alone (data, quant, graph, project), the project snapshot and project files. */
import { describe, expect, it } from 'vitest';
import { createStore } from 'zustand/vanilla';
import type { DataSummary } from '../src/data/summary.ts';
import { createDataSlice, inputShapeOf, normalizationOf, type DataSlice } from '../src/ui/store/data-slice.ts';
import { createGraphSlice, type GraphSlice } from '../src/ui/store/graph-slice.ts';
import { createProjectSlice, type ProjectSlice } from '../src/ui/store/project-slice.ts';
import { createQuantSlice, DEFAULT_QUANT_SETTINGS, type QuantSlice } from '../src/ui/store/quant-slice.ts';
import { createStudioStore } from '../src/ui/store/studio-store.ts';
import { decodeProjectFile, encodeProjectFile } from '../src/ui/persist/project-file.ts';
import { snapshotOf, stateFromSnapshot, validateSnapshot } from '../src/ui/persist/snapshot.ts';
import { calibConfigOf, qatConfigOf } from '../src/ui/features/quant/quant-controller.ts';
import { numberErrors } from '../src/ui/features/quant/quant-settings-rules.ts';
import { ADAROUND_DEFAULTS } from '../src/quant/ptq/adaround-config.ts';
import { createProjectController } from '../src/ui/features/project/project-controller.ts';
import type { TrainingClient } from '../src/train/client.ts';
import type { DataController } from '../src/ui/features/data/data-controller.ts';

const summary = (shape = [3, 32, 32], name = 'cifar10'): DataSummary => ({
  name, kind: 'cifar', source: 'x', split: 's', shape, classNames: ['a', 'b'], trainCount: 4, testCount: 2,
  trainClassCounts: [2, 2], testClassCounts: [1, 1], stats: { mean: [0.4, 0.5, 0.6], std: [0.2, 0, 0.3] },
  preview: { images: new Uint8Array(4 * 3072), labels: [0, 1, 0, 1], count: 4 },
});

describe('data slice', () => {
  it('loads, decodes, fails without losing the data, and derives normalization and input shape', () => {
    const s = createStore<DataSlice>()(createDataSlice);
    const g = () => s.getState();
    expect(g().data.status).toBe('loading');
    g().dataFailed('built-in', 'offline');
    expect(g().data).toMatchObject({ status: 'loading', error: { file: 'built-in' } });
    g().dataLoaded(summary(), null);
    expect(g().data.status).toBe('ready');
    g().dataDecoding();
    g().dataProgress({ done: 1, total: 3, stage: 'reading files' });
    expect(g().data.progress?.done).toBe(1);
    g().dataFailed('bad.zip', 'bad.zip: not a zip');
    expect(g().data).toMatchObject({ status: 'ready', summary: { name: 'cifar10' }, error: { file: 'bad.zip' } });
    g().dismissDataError();
    expect(g().data.error).toBeNull();
    expect(normalizationOf(g().data)).toBe('pixel/255');
    g().setPrep({ normalize: 'dataset' });
    expect(normalizationOf(g().data)).toEqual({ mean: [0.4, 0.5, 0.6], std: [0.2, 1e-3, 0.3] });
    g().setPrep({ yuv: true });
    expect(normalizationOf(g().data)).toEqual({ mean: [128 / 255], std: [128 / 255] });
    expect(inputShapeOf(g().data)).toEqual([3, 32, 32]);
    g().dataLoaded(summary([1, 28, 28], 'grey'), null);
    expect(g().data.prep.yuv).toBe(false); // YUV needs RGB
  });
});

describe('quant slice', () => {
  it('edits settings and overrides, follows a calibration and a QAT job', () => {
    const s = createStore<QuantSlice>()(createQuantSlice);
    const g = () => s.getState();
    g().setQuantSetting('march', 'bernoulli');
    g().setOverride({ match: 'fc', activation: { dtype: 'qint16' } });
    g().setOverride({ match: 'fc', int32Output: false });
    expect(g().quant.settings.overrides).toEqual([{ match: 'fc', int32Output: false }]);
    g().setOverride({ match: 'fc' });
    expect(g().quant.settings.overrides).toEqual([]);
    g().applyQuantMessage({ type: 'quant-progress', stage: 'calib', done: 1, total: 2, loss: NaN, etaSeconds: 1 });
    expect(g().quant.job.done).toBe(0); // not live: ignored
    g().beginQuantJob('calib');
    g().applyQuantMessage({ type: 'quant-started', stage: 'calib', total: 2, acts: 6, weights: 4 });
    g().applyQuantMessage({ type: 'quant-progress', stage: 'calib', done: 1, total: 2, loss: NaN, etaSeconds: 1 });
    expect(g().quant.job).toMatchObject({ status: 'running', done: 1, total: 2, sites: { acts: 6, weights: 4 } });
    const scales = { activations: { a: 0.1 }, weights: {} };
    g().applyQuantMessage({ type: 'quant-done', stage: 'calib', acc1: 80, acc5: 99, seconds: 1, scales, histograms: [] });
    expect(g().quant.calib?.acc1).toBe(80);
    expect(g().quant.job).toMatchObject({ status: 'idle', outcome: 'done' });
    g().beginQuantJob('qat');
    g().applyQuantMessage({ type: 'quant-started', stage: 'qat', total: 4, acts: 6, weights: 4 });
    for (let i = 1; i <= 4; i++) g().applyQuantMessage({ type: 'quant-progress', stage: 'qat', done: i, total: 4, loss: 1 / i, etaSeconds: 0 });
    g().applyQuantMessage({ type: 'quant-epoch', stage: 'qat', epoch: 1, acc1: 81, acc5: 99, loss: 0.5 });
    g().applyQuantMessage({ type: 'quant-done', stage: 'qat', acc1: 81, acc5: 99, seconds: 2, scales, histograms: [] });
    expect(g().quant.qat).toMatchObject({ acc1: 81, losses: { length: 4 }, epochs: [{ epoch: 1, step: 4 }] });
    expect(g().quant.calib).not.toBeNull();
    g().beginQuantJob('calib');
    g().requestQuantCancel();
    expect(g().quant.job.status).toBe('cancelling');
    g().applyQuantMessage({ type: 'quant-cancelled', stage: 'calib' });
    expect(g().quant.job).toMatchObject({ status: 'idle', outcome: 'cancelled' });
    g().beginQuantJob('qat');
    g().applyQuantMessage({ type: 'quant-error', stage: 'qat', message: 'boom' });
    expect(g().quant.job).toMatchObject({ outcome: 'error', error: 'boom' });
    g().clearQuantResults();
    expect([g().quant.calib, g().quant.qat]).toEqual([null, null]);
  });
});

describe('graph and project slices', () => {
  it('keeps view state and overlays apart', () => {
    const s = createStore<GraphSlice>()(createGraphSlice);
    s.getState().setOverlay('sqnr', { a: 30 });
    s.getState().setColorBy('sqnr');
    s.getState().selectNode('a');
    s.getState().setGraphFused(false);
    expect(s.getState().graphView).toMatchObject({ fused: false, colorBy: 'sqnr', selected: 'a', overlays: { sqnr: { a: 30 } } });
    s.getState().clearOverlays();
    expect(s.getState().graphView.overlays).toEqual({});
  });
  it('a float checkpoint drops the calib and qat checkpoints', () => {
    const s = createStore<ProjectSlice>()(createProjectSlice);
    const b = new Uint8Array([1]);
    s.getState().setCheckpoint('float', b);
    s.getState().setCheckpoint('calib', b);
    s.getState().setCheckpoint('qat', b);
    expect(Object.keys(s.getState().checkpoints)).toEqual(['float', 'calib', 'qat']);
    s.getState().setCheckpoint('float', b);
    expect(Object.keys(s.getState().checkpoints)).toEqual(['float']);
    expect(s.getState().project.revision).toBe(4);
  });
});

describe('project snapshot and file', () => {
  it('round-trips a project with a dropped data set, results and checkpoints', () => {
    const store = createStudioStore();
    const st = store.getState();
    st.setModel('mlp');
    st.setSetting('trainImages', 300);
    const ds = { name: 'd/train', images: new Uint8Array([1, 2, 3, 4]), labels: new Uint8Array([0]), count: 1, channels: 1, height: 2, width: 2, numClasses: 2, classNames: ['a', 'b'] };
    st.dataLoaded(summary([1, 2, 2], 'd'), { train: ds, test: { ...ds, name: 'd/test' }, source: 'd' });
    st.setCheckpoint('float', new Uint8Array([9, 8, 7]));
    st.setQuantSetting('autoCalib', true);
    st.setQuantSetting('autoCalibObservers', ['mse', 'kl']);
    st.setQuantSetting('adaroundSteps', 40);
    st.setQuantSetting('adaroundExclude', 'fc');
    st.beginQuantJob('calib');
    const ptq = {
      autoCalib: { candidates: ['mse', 'kl'], images: 8, seconds: 1, criterion: 'l2' as const, uniform: [{ observer: 'mse', distance: 2, scales: { a: 0.4 } }, { observer: 'kl', distance: 3, scales: { a: 0.6 } }], start: 'mse', distance: 1, choices: [{ site: 'a', observer: 'kl', scale: 0.5, changed: true, candidates: [{ observer: 'current', scale: 0.4, distance: 2 }, { observer: 'mse', scale: 0.4, distance: 2 }, { observer: 'kl', scale: 0.5, distance: 1 }] }] },
      adaround: {
        config: { ...ADAROUND_DEFAULTS, numSteps: 40, excludePrefix: ['fc'] }, images: 8, seconds: 2, nearestAcc1: 65,
        layers: [{ node: 'fc', weights: 10, rounding: 'excluded' as const, changed: 0, nearest_error: null, adaround_error: null, seconds: 0 }],
      },
    };
    st.applyQuantMessage({ type: 'quant-done', stage: 'calib', acc1: 70, acc5: 90, seconds: 1, scales: { activations: { a: 0.5 }, weights: { w: [1, 2] } }, histograms: [{ node: 'a', lo: -1, hi: 1, counts: [1, 2], min: 0, max: 1, clip: [-1, 1] }], ptq });
    const snap = snapshotOf(store.getState());
    const back = decodeProjectFile(encodeProjectFile(snap), 'p.qsproj');
    expect(back.modelName).toBe('mlp');
    expect(back.settings.trainImages).toBe(300);
    expect(back.data?.dataset.train.images).toEqual(new Uint8Array([1, 2, 3, 4]));
    expect(back.checkpoints.float).toEqual(new Uint8Array([9, 8, 7]));
    expect(back.quant.calib?.histograms[0].counts).toEqual([1, 2]);
    // The PTQ results and the settings that made them are kept with the project.
    expect(back.quant.calib?.ptq).toEqual(ptq);
    const fresh = createStudioStore();
    fresh.setState(stateFromSnapshot(back));
    fresh.getState().restoreQuant(back.quant);
    expect(fresh.getState().modelName).toBe('mlp');
    expect(fresh.getState().quant.settings).toMatchObject({ autoCalib: true, autoCalibObservers: ['mse', 'kl'], adaroundSteps: 40, adaroundExclude: 'fc' });
    expect(fresh.getState().quant.calib?.ptq?.adaround?.config.excludePrefix).toEqual(['fc']);
    expect(() => decodeProjectFile(new Uint8Array([1, 2, 3]), 'junk.qsproj')).toThrow(/junk.qsproj: not a Quant Studio project file/);
    expect(() => validateSnapshot({ version: 1, modelName: 'vgg' }, 'saved')).toThrow(/unknown model/);
  });

  it('the project controller restores a saved project, then saves changes (debounced)', async () => {
    const store = createStudioStore();
    const saved = new Map<string, unknown>();
    const old = createStudioStore();
    old.getState().setModel('resnet-mini');
    saved.set('project', snapshotOf(old.getState()));
    const restored: unknown[] = [];
    const client = { restore: (...a: unknown[]) => restored.push(a), job: null } as unknown as TrainingClient;
    let builtin = 0;
    const data = { loadBuiltin: () => { builtin++; store.getState().dataLoaded(summary([1, 28, 28], 'fashion-mnist (built-in)'), null); } } as unknown as DataController;
    const ctl = createProjectController(store, client, data, { get: async (k) => saved.get(k), put: async (k, v) => { saved.set(k, v); } }, 1);
    await ctl.start();
    expect(store.getState().modelName).toBe('resnet-mini');
    expect(store.getState().project.status).toBe('ready');
    expect([builtin, restored.length]).toEqual([1, 1]);
    store.getState().setModel('mlp');
    await new Promise((r) => setTimeout(r, 30));
    expect((saved.get('project') as { modelName: string }).modelName).toBe('mlp');
    expect(store.getState().project.savedAt).toBeGreaterThan(0);
    ctl.dispose();
  });

  it('builds calibration and QAT jobs from the settings (QAT uses the matching qat template)', () => {
    const store = createStudioStore();
    store.getState().setQuantSetting('template', 'default_calibration_int16');
    store.getState().setPrep({ yuv: true });
    const c = calibConfigOf(store.getState());
    expect(c).toMatchObject({ batches: DEFAULT_QUANT_SETTINGS.calibBatches, quant: { quantStubScale: 1 / 128, observer: null } });
    expect(qatConfigOf(store.getState()).quant.template).toBe('default_qat_int16');
    expect(c.ptq).toBeUndefined();
  });

  it('passes the PTQ choices of the page (candidates, AdaRound parameters) to the calibration job; no candidate is refused', () => {
    const store = createStudioStore();
    const set = store.getState().setQuantSetting;
    set('weightBits', 4);
    set('autoCalib', true);
    set('autoCalibObservers', ['kl', 'minmax']);
    set('autoCalibParams', 'percentile:99.9, clip_std:4,');
    set('autoCalibCriterion', 'loss');
    set('autoCalibGate', 2);
    set('adaroundSteps', 50);
    set('adaroundBatches', 2);
    set('adaroundWarmUp', 0.1);
    set('adaroundExclude', ' fc, conv1 ,');
    const c = calibConfigOf(store.getState());
    expect(c.quant.weightBits).toBe(4);
    expect(c.ptq).toEqual({
      autoCalib: { candidates: ['kl', 'minmax', 'percentile:99.9', 'clip_std:4'], criterion: 'loss', gate: 2 },
      adaround: { numSteps: 50, numBatches: 2, warmUp: 0.1, weight: DEFAULT_QUANT_SETTINGS.adaroundWeight, excludePrefix: ['fc', 'conv1'] },
    });
    expect(numberErrors(store.getState().quant.settings)).toEqual({});
    set('autoCalibParams', 'percentile:101');
    expect(numberErrors(store.getState().quant.settings)).toEqual({ autoCalibObservers: '"percentile:101": the parameter of percentile must be a percentage in (0, 100]' });
    set('autoCalibParams', ' ');
    set('autoCalibObservers', []);
    set('adaroundWarmUp', 1);
    expect(numberErrors(store.getState().quant.settings)).toEqual({ autoCalibObservers: 'pick at least one observer', adaroundWarmUp: 'must be between 0 and 0.99' });
    set('autoCalib', false);
    set('adaroundSteps', 0);
    expect(calibConfigOf(store.getState()).ptq).toBeUndefined();
  });
});
