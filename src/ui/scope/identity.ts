/**
 * What a result belongs to: the identity of the model on screen (a zoo name, or an imported file's content
 * fingerprint with its input shape and preprocessing) and of the data (the built-in set, or a dropped set's
 * content fingerprint, with the preprocessing the worker applies). Pure; fingerprints are cached per object.
 */
import type { TrainTestData } from '../../data/dataset.ts';
import type { ResultScope } from '../../train/protocol.ts';
import { normalizationOf, type DataState } from '../store/data-slice.ts';
import type { ImportedModel, ModelSlice } from '../store/model-slice.ts';
import { Fingerprint } from './content-hash.ts';

/** A scope with the words the page uses for it. */
export interface Scope extends ResultScope { modelLabel: string; dataLabel: string }

export const scopeKey = (s: ResultScope): string => `${s.model}|${s.data}`;
export const toResultScope = (s: ResultScope): ResultScope => ({ model: s.model, data: s.data });

const modelPrints = new WeakMap<ImportedModel, string>();
const dataPrints = new WeakMap<TrainTestData, string>();

/** The imported model's fingerprint: its weights, graph, input shape and preprocessing. */
export function importedFingerprint(m: ImportedModel): string {
  let h = modelPrints.get(m);
  if (!h) {
    h = new Fingerprint().bytes(m.weights).text(JSON.stringify(m.graph.nodes)).text(JSON.stringify([m.inputShape, m.normalization])).hex();
    modelPrints.set(m, h);
  }
  return h;
}

/** Sampled pixels (up to 1 MiB per split) and every label, with the shapes and class names. */
export function dataFingerprint(d: TrainTestData): string {
  let h = dataPrints.get(d);
  if (!h) {
    const f = new Fingerprint();
    for (const s of [d.train, d.test]) {
      f.text(JSON.stringify([s.count, s.channels, s.height, s.width, s.classNames])).bytes(s.labels ?? new Uint8Array(0)).bytes(s.images, 1 << 20);
    }
    h = f.hex();
    dataPrints.set(d, h);
  }
  return h;
}

export function modelIdentity(s: Pick<ModelSlice, 'modelName' | 'imported'>): { key: string; label: string } {
  if (!s.imported) return { key: `zoo:${s.modelName}`, label: s.modelName };
  return { key: `onnx:${s.imported.file}#${importedFingerprint(s.imported)}`, label: s.imported.file };
}

/** The data's identity, or null while no data is ready (nothing is switched until it is). */
export function dataIdentity(d: DataState): { key: string; label: string } | null {
  if (d.status !== 'ready' || !d.summary) return null;
  const base = d.dataset ? `${d.summary.kind}:${d.summary.name}#${dataFingerprint(d.dataset)}` : `builtin:${d.summary.name}`;
  const norm = normalizationOf(d);
  // Without labels is another data set: results made with labels never show for it, nor the reverse.
  const prep = `${d.prep.withoutLabels ? 'nolabels;' : ''}${d.prep.yuv ? 'yuv444' : 'rgb'};${norm === 'pixel/255' ? norm : `mean=${norm.mean.map((v) => +v.toFixed(6))},std=${norm.std.map((v) => +v.toFixed(6))}`}`;
  const how = norm === 'pixel/255' ? '' : ', normalized';
  return { key: `${base}|${prep}`, label: `${d.summary.name}${d.prep.withoutLabels ? ', without labels' : ''}${d.prep.yuv ? ', YUV444' : ''}${how}` };
}

/** The scope of what the page shows now (null while the data is loading). */
export function currentScope(s: Pick<ModelSlice, 'modelName' | 'imported'> & { data: DataState }): Scope | null {
  const d = dataIdentity(s.data);
  if (!d) return null;
  const m = modelIdentity(s);
  return { model: m.key, data: d.key, modelLabel: m.label, dataLabel: d.label };
}
