/**
 * Run history: runs recorded from finished jobs (with the settings they started with), renamed, deleted, picked
 * for comparison, kept with their model and data across a switch and through a project file; the comparison's
 * settings diff, per-layer join and common histogram sites.
 */
import { describe, expect, it } from 'vitest';
import { summarize } from '../src/data/summary.ts';
import type { ImageDataset, TrainTestData } from '../src/data/dataset.ts';
import type { LayerStats } from '../src/quant/deploy-check.ts';
import type { ActHistogram } from '../src/train/quant-protocol.ts';
import { createStudioStore } from '../src/ui/store/studio-store.ts';
import { DEFAULT_QUANT_SETTINGS } from '../src/ui/store/quant-slice.ts';
import { quantOf, quantRunOf } from '../src/ui/features/runs/record-run.ts';
import { commonHistogramSites, layerMetricsOf, layerRows, settingDiffs } from '../src/ui/features/runs/run-compare-model.ts';
import { currentScope } from '../src/ui/scope/identity.ts';
import { switchScope } from '../src/ui/scope/switch.ts';
import { snapshotOf, validateSnapshot } from '../src/ui/persist/snapshot.ts';
import { decodeProjectFile, encodeProjectFile } from '../src/ui/persist/project-file.ts';
import type { RunRecord } from '../src/ui/store/runs-slice.ts';

const toy = (n: number): ImageDataset => ({ name: 'toy/train', images: new Uint8Array(n * 784), labels: new Uint8Array(n), count: n, channels: 1, height: 28, width: 28, numClasses: 10, classNames: [...'0123456789'] });
const data = (): TrainTestData => ({ train: toy(20), test: toy(10), source: 'toy' });
const hist = (node: string, clip: number): ActHistogram => ({ node, lo: -1, hi: 1, counts: [1, 5, 9, 5, 1], min: -0.9, max: 0.9, clip: [-clip, clip] });
const layer = (name: string, sqnr: number): LayerStats => ({ name, dtype: 'int8', elements: 10, equal_frac: 1, max_lsb: 1, cosine: 0.999, sqnr_db: sqnr });

function calibRun(store: ReturnType<typeof createStudioStore>, observer: string, acc1: number, clip: number) {
  const s = store.getState();
  s.setQuantSetting('observer', observer);
  const settings = { ...store.getState().quant.settings };
  store.getState().beginQuantJob('calib');
  store.getState().applyQuantMessage({ type: 'quant-done', stage: 'calib', acc1, acc5: 99, seconds: 2,
    scales: { activations: { conv1: clip / 127, fc: 0.1 }, weights: {} }, histograms: [hist('conv1', clip), hist('fc', 2)] });
  return store.getState().addRun(quantRunOf(store.getState(), 'calib', settings, 1000)!);
}

describe('run history', () => {
  it('keeps every calibration with its settings and results; rename, compare, delete', () => {
    const store = createStudioStore();
    store.getState().dataLoaded(summarize(data(), 'builtin', 'toy'), null);
    const a = calibRun(store, 'minmax', 80, 1);
    const b = calibRun(store, 'percentile', 82, 0.8);
    const runs = store.getState().runs;
    expect(runs.list.map((r) => r.name)).toEqual(['Calibration 1 (minmax, bayes)', 'Calibration 2 (percentile, bayes)']);
    expect(runs.list[1]).toMatchObject({ kind: 'calib', acc1: 82, quant: { observer: 'percentile', calibBatches: DEFAULT_QUANT_SETTINGS.calibBatches } });
    expect(runs.list[1].histograms?.map((h) => h.node)).toEqual(['conv1', 'fc']);
    // The second run of a kind is compared with the first by default.
    expect(runs.compare).toEqual([a.id, b.id]);

    store.getState().renameRun(a.id, '  baseline  ');
    store.getState().renameRun(a.id, '   '); // a blank name is ignored
    expect(store.getState().runs.list[0].name).toBe('baseline');

    const [ra, rb] = store.getState().runs.list;
    expect(settingDiffs(ra, rb)).toEqual([{ key: 'observer', a: 'minmax', b: 'percentile' }]);
    expect(layerMetricsOf(ra, rb)).toEqual(['scale']);
    expect(layerRows(ra, rb, 'scale')).toEqual([{ name: 'conv1', a: 1 / 127, b: 0.8 / 127 }, { name: 'fc', a: 0.1, b: 0.1 }]);
    // The site whose clip ranges differ most comes first.
    expect(commonHistogramSites(ra, rb)).toEqual(['conv1', 'fc']);
    expect(commonHistogramSites({ ...rb, histograms: [...rb.histograms!].reverse() }, ra)).toEqual(['conv1', 'fc']);

    store.getState().deleteRun(a.id);
    expect(store.getState().runs.list.map((r) => r.id)).toEqual([b.id]);
    expect(store.getState().runs.compare).toEqual([null, b.id]);
  });

  it('joins deployment checks by layer, a layer missing on one side shown as such', () => {
    const base = { kind: 'deploy' as const, at: 0, quant: quantOf(DEFAULT_QUANT_SETTINGS), acc1: 80, acc5: 99, seconds: 1 };
    const res = (layers: LayerStats[]) => ({ images: 10, agreement_top1: 99, qat: { acc1: 80, acc5: 99 }, int: { acc1: 80, acc5: 99 }, layers, seconds: 1 });
    const a: RunRecord = { ...base, id: 'a', name: 'a', deploy: res([layer('conv1', 30), layer('fc', Infinity)]) };
    const b: RunRecord = { ...base, id: 'b', name: 'b', deploy: res([layer('conv1', 42)]), quant: { ...base.quant, march: 'nash-e' } };
    expect(layerMetricsOf(a, b)).toEqual(['sqnr', 'cosine', 'maxLsb']);
    expect(layerRows(a, b, 'sqnr')).toEqual([{ name: 'conv1', a: 30, b: 42 }, { name: 'fc', a: Infinity, b: null }]);
    expect(settingDiffs(a, b)).toEqual([{ key: 'march', a: 'bayes', b: 'nash-e' }]);
    expect(commonHistogramSites(a, b)).toEqual([]);
    // With the scales of the models they converted, checks compare per layer by scale too, and with a calibration.
    const scales = (v: number) => ({ activations: { conv1: v }, weights: {} });
    expect(layerMetricsOf({ ...a, scales: scales(0.1) }, { ...b, scales: scales(0.2) })).toEqual(['sqnr', 'cosine', 'maxLsb', 'scale']);
    const calib: RunRecord = { ...base, kind: 'calib', id: 'c', name: 'c', scales: scales(0.1) };
    expect(layerMetricsOf(calib, { ...b, scales: scales(0.2) })).toEqual(['scale']);
    expect(layerRows(calib, { ...b, scales: scales(0.2) }, 'scale')).toEqual([{ name: 'conv1', a: 0.1, b: 0.2 }]);
  });

  it('a QAT run keeps the QAT model\'s histograms, to overlay with a calibration\'s', () => {
    const store = createStudioStore();
    store.getState().dataLoaded(summarize(data(), 'builtin', 'toy'), null);
    const c = calibRun(store, 'minmax', 80, 1);
    const settings = { ...store.getState().quant.settings };
    store.getState().beginQuantJob('qat');
    store.getState().applyQuantMessage({ type: 'quant-done', stage: 'qat', acc1: 83, acc5: 99, seconds: 3,
      scales: { activations: { conv1: 0.5 / 127, fc: 0.1 }, weights: {} }, histograms: [hist('conv1', 0.5)] });
    const q = store.getState().addRun(quantRunOf(store.getState(), 'qat', settings, 2000)!);
    const [rc, rq] = [c, q].map((r) => store.getState().runs.list.find((x) => x.id === r.id)!);
    expect(rq.histograms?.map((h) => h.clip)).toEqual([[-0.5, 0.5]]);
    expect(commonHistogramSites(rc, rq)).toEqual(['conv1']);
  });

  it('runs belong to their model and data: they switch with it and survive a project file', () => {
    const store = createStudioStore();
    store.getState().dataLoaded(summarize(data(), 'builtin', 'toy'), null);
    store.setState({ scope: currentScope(store.getState()) });
    calibRun(store, 'minmax', 80, 1);
    store.getState().setModel('mlp');
    store.setState(switchScope(store.getState(), currentScope(store.getState())!));
    expect(store.getState().runs.list).toEqual([]);
    const snap = validateSnapshot(decodeProjectFile(encodeProjectFile(snapshotOf(store.getState())), 'p.qsproj'), 'p');
    expect(Object.values(snap.shelf!)[0].runs?.list[0]).toMatchObject({ kind: 'calib', acc1: 80, histograms: [{ node: 'conv1' }, { node: 'fc' }] });
    store.getState().setModel('cnn-small');
    store.setState(switchScope(store.getState(), currentScope(store.getState())!));
    expect(store.getState().runs.list.map((r) => r.acc1)).toEqual([80]);
    expect(store.getState().scopeNotice?.text).toContain('reopened its own results (calibration 80.00 %, 1 kept run)');
  });
});
