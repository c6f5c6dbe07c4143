/**
 * The imported model between the import worker, the store, the project and the training worker:
 * built from an import result (weights encoded once), checked when read back from a saved project,
 * turned into the worker's set-model choice; and the Model panel's import fields parsed.
 */
import { decodeCheckpoint, encodeCheckpoint } from '../../../io/checkpoint.ts';
import type { InputPreprocessing, OnnxImportOptions, OnnxImportResult } from '../../../io/onnx/import/index.ts';
import { IMPORTED_PREFIX, type ModelChoice } from '../../../train/model-protocol.ts';
import type { ImportedModel, ModelSlice } from '../../store/model-slice.ts';

export function toImportedModel(file: string, r: OnnxImportResult): ImportedModel {
  const shapes = Object.fromEntries(r.graph.params.map((p) => [p.name, p.shape]));
  const weights = encodeCheckpoint({ model: `${IMPORTED_PREFIX}${file}`, stage: 'import', meta: {}, params: r.host, shapes });
  return {
    file, graph: r.graph, weights, inputShape: [...r.inputShape], normalization: r.normalization,
    normalizationSource: r.normalizationSource, opset: r.opset, producer: r.producer,
  };
}

/** A structural check of an imported model read from storage or a project file. */
export function isImportedModel(x: unknown): x is ImportedModel {
  const m = x as Partial<ImportedModel> | null;
  return !!m && typeof m === 'object' && typeof m.file === 'string' && m.weights instanceof Uint8Array && !!m.graph &&
    Array.isArray(m.graph.nodes) && Array.isArray(m.graph.params) && Array.isArray(m.inputShape);
}

/** What the training worker needs for the current model (an imported one's weights decoded). */
export function modelChoiceOf(s: Pick<ModelSlice, 'modelName' | 'imported'>): ModelChoice {
  const m = s.imported;
  if (!m) return { kind: 'zoo', name: s.modelName };
  return { kind: 'onnx', name: `${IMPORTED_PREFIX}${m.file}`, graph: m.graph, host: decodeCheckpoint(m.weights, m.file).params };
}

/** The Model panel's import fields, as typed. Empty fields: the file's value (or the default pixel/255). */
export interface ImportFields { inputShape: string; scale: string; mean: string; std: string }
export const EMPTY_FIELDS: ImportFields = { inputShape: '', scale: '', mean: '', std: '' };

const numbers = (s: string) => s.split(/[,\s]+/).filter(Boolean).map(Number);

/** The import options from the fields, or the problem of each field that does not parse. */
export function parseImportFields(f: ImportFields): { options: OnnxImportOptions; errors: Partial<Record<keyof ImportFields, string>> } {
  const errors: Partial<Record<keyof ImportFields, string>> = {};
  const options: OnnxImportOptions = {};
  if (f.inputShape.trim()) {
    const d = f.inputShape.trim().split(/\s*[x×,]\s*/).map(Number);
    if (d.length !== 3 || !d.every((v) => Number.isInteger(v) && v > 0)) errors.inputShape = 'C×H×W, e.g. 3x32x32';
    else options.inputShape = d;
  }
  const pre: InputPreprocessing = {};
  if (f.scale.trim()) {
    const v = Number(f.scale.trim());
    if (!(Number.isFinite(v) && v > 0)) errors.scale = 'a positive number, e.g. 0.00392 (1/255)';
    else pre.scale = v;
  }
  for (const k of ['mean', 'std'] as const) {
    if (!f[k].trim()) continue;
    const v = numbers(f[k]);
    if (!v.length || !v.every(Number.isFinite) || (k === 'std' && !v.every((x) => x > 0))) errors[k] = `one number or one per channel${k === 'std' ? ', all > 0' : ''}`;
    else pre[k] = v;
  }
  if (Object.keys(pre).length) options.preprocessing = pre;
  return { options, errors };
}
