/**
 * Which model the studio works on: a zoo model, or an imported ONNX model (which, while set, is the
 * model: zoo choice kept for when it is dropped). The import's status and its last error (naming the
 * file; a failed import keeps the current model).
 */
import type { Graph } from '../../graph/ir.ts';
import { MODEL_NAMES, type ModelName } from '../../models/zoo.ts';
import { IMPORTED_PREFIX } from '../../train/model-protocol.ts';
import type { Normalize } from '../../train/quant-protocol.ts';
import type { SliceCreator } from './types.ts';

/** An imported ONNX model as the page keeps it (and the project saves it). */
export interface ImportedModel {
  /** The file name. */
  file: string;
  graph: Graph;
  /** The float weights, encoded as a checkpoint (src/io/checkpoint.ts): compact, and safe in IndexedDB and project files. */
  weights: Uint8Array;
  /** Per-sample input shape [C, H, W]. */
  inputShape: number[];
  normalization: Normalize;
  normalizationSource: 'options' | 'file' | 'default';
  opset: number;
  producer: string;
}

export interface ModelImportState {
  status: 'idle' | 'importing';
  /** The file being imported. */
  file: string | null;
  error: { file: string; message: string } | null;
}

export interface ModelSlice {
  modelName: ModelName;
  imported: ImportedModel | null;
  modelImport: ModelImportState;
  /** A zoo model (drops the imported one). */
  setModel(name: string): void;
  importStarted(file: string): void;
  importDone(m: ImportedModel): void;
  /** A failed import: the current model stays. */
  importFailed(file: string, message: string): void;
  dismissImportError(): void;
}

export const DEFAULT_MODEL: ModelName = 'cnn-small';
export const IDLE_IMPORT: ModelImportState = { status: 'idle', file: null, error: null };

export function isModelName(name: string): name is ModelName {
  return (MODEL_NAMES as readonly string[]).includes(name);
}

/** The model's name in training configs and checkpoints: the zoo name, or `onnx:<file>`. */
export function modelIdOf(s: Pick<ModelSlice, 'modelName' | 'imported'>): string {
  return s.imported ? `${IMPORTED_PREFIX}${s.imported.file}` : s.modelName;
}

export const createModelSlice: SliceCreator<ModelSlice> = (set) => ({
  modelName: DEFAULT_MODEL,
  imported: null,
  modelImport: IDLE_IMPORT,
  setModel(name) {
    if (!isModelName(name)) throw new Error(`unknown model "${name}" (known: ${MODEL_NAMES.join(', ')})`);
    set({ modelName: name, imported: null });
  },
  importStarted(file) {
    set({ modelImport: { status: 'importing', file, error: null } });
  },
  importDone(m) {
    set({ imported: m, modelImport: IDLE_IMPORT });
  },
  importFailed(file, message) {
    set({ modelImport: { status: 'idle', file: null, error: { file, message } } });
  },
  dismissImportError() {
    set((s) => ({ modelImport: { ...s.modelImport, error: null } }));
  },
});
