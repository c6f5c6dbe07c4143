/**
 * Model intents: pick a zoo model, or import an .onnx file in the import worker (never on the main
 * thread). A good import becomes the studio's model and sets the data's normalization to the model's;
 * a bad one (not ONNX, truncated, an unsupported op) leaves an error naming the file and keeps the
 * current model. The training worker gets the model with set-model before each float run
 * (training-controller.ts). No React here.
 */
import { errorText } from '../../../train/protocol.ts';
import type { ImportedModel } from '../../store/model-slice.ts';
import type { StudioStore } from '../../store/studio-store.ts';
import { parseImportFields, type ImportFields } from './imported-model.ts';
import type { ImportReply, ImportRequest } from './onnx-import.worker.ts';

export interface ImportWorkerLike {
  postMessage(m: ImportRequest, transfer: Transferable[]): void;
  onmessage: ((ev: { data: ImportReply }) => void) | null;
  onerror: ((ev: { message?: string; preventDefault?: () => void }) => void) | null;
  terminate(): void;
}

/** A dropped or picked file (a browser File has both). */
export interface FileLike { name: string; arrayBuffer(): Promise<ArrayBuffer> }

export interface ModelController {
  /** Imports the file with the panel's fields; resolves when the import ended (either way). */
  importFile(file: FileLike, fields: ImportFields): Promise<void>;
  dispose(): void;
}

export const MAX_ONNX_BYTES = 512 * 1024 * 1024;

export function spawnImportWorker(): ImportWorkerLike {
  return new Worker(new URL('./onnx-import.worker.ts', import.meta.url), { type: 'module', name: 'onnx-import' }) as unknown as ImportWorkerLike;
}

/** The data preprocessing that feeds the model what it expects. */
export function prepFor(m: ImportedModel) {
  return m.normalization === 'pixel/255'
    ? { yuv: false, normalize: 'pixel/255' as const }
    : { yuv: false, normalize: 'custom' as const, mean: [...m.normalization.mean], std: [...m.normalization.std] };
}

export function createModelController(store: StudioStore, spawn: () => ImportWorkerLike = spawnImportWorker): ModelController {
  const st = () => store.getState();
  let worker: ImportWorkerLike | null = null;
  let seq = 0;
  let pending: { id: number; file: string; resolve: () => void } | null = null;

  const end = (apply: () => void) => {
    const p = pending;
    pending = null;
    apply();
    p?.resolve();
  };
  const drop = () => {
    worker?.terminate();
    worker = null;
  };
  const ensure = (): ImportWorkerLike => {
    if (worker) return worker;
    const w = spawn();
    w.onmessage = (ev) => {
      const m = ev.data;
      if (!pending || m.id !== pending.id) return; // an answer to a superseded import
      if (m.type === 'failed') return end(() => st().importFailed(m.file, m.message));
      end(() => {
        st().importDone(m.model);
        st().setPrep(prepFor(m.model));
        st().touchProject();
      });
    };
    w.onerror = (ev) => {
      ev.preventDefault?.();
      drop();
      const file = pending?.file ?? 'the file';
      end(() => st().importFailed(file, `the import worker failed: ${ev.message ? errorText(ev.message) : 'unknown error'}`));
    };
    worker = w;
    return w;
  };

  return {
    async importFile(file, fields) {
      const name = file.name || 'model.onnx';
      const { options, errors } = parseImportFields(fields);
      const bad = Object.entries(errors);
      if (bad.length) return st().importFailed(name, `check the import fields: ${bad.map(([k, v]) => `${k}: ${v}`).join('; ')}`);
      let bytes: Uint8Array;
      try {
        bytes = new Uint8Array(await file.arrayBuffer());
      } catch (e) {
        return st().importFailed(name, `cannot read the file (${errorText(e)})`);
      }
      if (bytes.length > MAX_ONNX_BYTES) return st().importFailed(name, `the file is too large (${bytes.length} bytes; at most ${MAX_ONNX_BYTES})`);
      if (pending) end(() => {}); // a newer import supersedes the one in flight
      const id = ++seq;
      st().importStarted(name);
      await new Promise<void>((resolve) => {
        pending = { id, file: name, resolve };
        ensure().postMessage({ id, file: name, bytes, options }, [bytes.buffer as ArrayBuffer]);
      });
    },
    dispose() {
      drop();
      if (pending) end(() => {});
    },
  };
}
