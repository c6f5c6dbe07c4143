/**
 * The ONNX import off the page's main thread: a small module worker that parses the file's bytes
 * (src/io/onnx/import) and answers with the imported model (weights encoded) or the import error
 * naming the file, node, op and reason. `handleImport` is the whole job (tested in Node); the last
 * lines bind it to the worker global when loaded as one.
 */
import { importOnnx } from '../../../io/onnx/import/index.ts';
import type { OnnxImportOptions } from '../../../io/onnx/import/index.ts';
import { errorText } from '../../../train/protocol.ts';
import type { ImportedModel } from '../../store/model-slice.ts';
import { toImportedModel } from './imported-model.ts';
import { reportUnhandledRejections } from '../../../workers/worker-scope.ts';

export interface ImportRequest { id: number; file: string; bytes: Uint8Array; options: OnnxImportOptions }
export type ImportReply =
  | { id: number; type: 'done'; model: ImportedModel }
  | { id: number; type: 'failed'; file: string; message: string };

export function handleImport(req: ImportRequest): ImportReply {
  try {
    const r = importOnnx(req.bytes, req.file, req.options);
    return { id: req.id, type: 'done', model: toImportedModel(req.file, r) };
  } catch (e) {
    // OnnxImportError's message already starts with the file name and names the node and op.
    const message = errorText(e);
    return { id: req.id, type: 'failed', file: req.file, message: message.startsWith(`${req.file}: `) ? message.slice(req.file.length + 2) : message };
  }
}

if (typeof WorkerGlobalScope !== 'undefined' && typeof self !== 'undefined' && self instanceof WorkerGlobalScope) {
  const scope = self as unknown as DedicatedWorkerGlobalScope;
  reportUnhandledRejections(scope);
  scope.onmessage = (ev: MessageEvent<ImportRequest>) => {
    const reply = handleImport(ev.data);
    scope.postMessage(reply, reply.type === 'done' ? [reply.model.weights.buffer as ArrayBuffer] : []);
  };
}
