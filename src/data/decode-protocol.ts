/**
 * The data decode worker's protocol (decode.worker.ts): files in, a data set (or an error naming the
 * bad file) out, with progress. The page never decodes pixels itself.
 *   page -> worker: load-builtin {id} | decode {id, files: [{path, blob}], resize, source}
 *   worker -> page: progress {id, done, total, stage} | decoded {id, summary, data|null} | failed {id, file, message}
 * `data` is null for the built-in set (the training worker loads that itself).
 */
import type { TrainTestData } from './dataset.ts';
import type { DataSummary } from './summary.ts';

export interface DroppedFile { path: string; blob: Blob }

export type DecodeRequest =
  | { type: 'load-builtin'; id: number }
  | { type: 'decode'; id: number; files: DroppedFile[]; resize: [number, number] | null; source: string };

export type DecodeMessage =
  | { type: 'progress'; id: number; done: number; total: number; stage: string }
  | { type: 'decoded'; id: number; summary: DataSummary; data: TrainTestData | null }
  | { type: 'failed'; id: number; file: string; message: string };
