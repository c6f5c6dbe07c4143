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
import { WorkerBridge, type BridgeProtocol } from '../../../workers/bridge.ts';
import type { WorkerLike } from '../../../workers/worker-slot.ts';

/** The import worker's surface (a DOM Worker has it; tests pass fakes). */
export type ImportWorkerLike = WorkerLike<ImportRequest>;

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

type ImportCalls = { import: { request: Omit<ImportRequest, 'id'>; response: ImportReply } };

/** The import worker's protocol: one request, answered by `done` or `failed` (both results; a crash rejects). */
const IMPORT_PROTOCOL: BridgeProtocol<ImportCalls> = {
  name: 'import',
  idleMs: 30_000, // parsing holds nothing between imports
  request: (_m, id, r) => ({ message: { id, ...r } satisfies ImportRequest, transfer: [r.bytes.buffer as ArrayBuffer] }),
  reply: (d) => {
    const m = d as Partial<ImportReply> | null;
    return m && typeof m.id === 'number' && (m.type === 'done' || m.type === 'failed') ? { id: m.id, kind: 'result', value: m } : null;
  },
};

/** The data preprocessing that feeds the model what it expects. */
export function prepFor(m: ImportedModel) {
  return m.normalization === 'pixel/255'
    ? { yuv: false, normalize: 'pixel/255' as const }
    : { yuv: false, normalize: 'custom' as const, mean: [...m.normalization.mean], std: [...m.normalization.std] };
}

export function createModelController(store: StudioStore, spawn: () => ImportWorkerLike = spawnImportWorker): ModelController {
  const st = () => store.getState();
  const bridge = new WorkerBridge<ImportCalls, ImportWorkerLike>(IMPORT_PROTOCOL, spawn);
  /** The import in flight; a newer import aborts it (terminating its worker if it is parsing). */
  let inFlight: AbortController | null = null;

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
      inFlight?.abort(); // a newer import supersedes the one in flight
      const mine = new AbortController();
      inFlight = mine;
      st().importStarted(name);
      let m: ImportReply;
      try {
        m = await bridge.call('import', { file: name, bytes, options }, { signal: mine.signal });
      } catch (e) {
        if (mine.signal.aborted) return; // superseded or disposed: the newer import owns the store
        return st().importFailed(name, errorText(e)); // the worker crashed: "import worker failed: ..."
      } finally {
        if (inFlight === mine) inFlight = null;
      }
      if (m.type === 'failed') return st().importFailed(m.file, m.message);
      st().importDone(m.model);
      st().setPrep(prepFor(m.model));
      st().touchProject();
    },
    dispose() {
      inFlight?.abort();
      bridge.dispose();
    },
  };
}
