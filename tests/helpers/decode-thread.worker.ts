/**
 * The data decode host (decode.worker.ts createDecodeHost) in a Node worker thread. The thread has no image
 * decoder (IDX and CIFAR-10 need none), and its built-in loader kills the thread, standing in for a worker that dies
 * in the middle of a job (out of memory, a fatal error) so the page's handling of a dead decode worker is tested.
 */
import { parentPort } from 'node:worker_threads';
import { createDecodeHost } from '../../src/data/decode.worker.ts';
import type { DecodeRequest } from '../../src/data/decode-protocol.ts';

const handle = createDecodeHost({
  post: (m, transfer) => parentPort!.postMessage(m, (transfer ?? []) as never),
  decodeImage: async () => { throw new Error('no image decoder in this thread'); },
  loadBuiltin: async () => process.exit(1),
});
parentPort!.on('message', (d: DecodeRequest) => void handle(d));
