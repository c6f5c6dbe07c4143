/** The simulator host (sim.worker.ts createSimHost) in a Node worker thread, as the page runs it in a Web Worker. */
import { parentPort } from 'node:worker_threads';
import { createSimHost } from '../../src/sim/sim.worker.ts';
import { isSimRequest } from '../../src/sim/protocol.ts';

const handle = createSimHost({ post: (m, transfer) => parentPort!.postMessage(m, transfer ?? []) });
parentPort!.on('message', (d: unknown) => {
  if (isSimRequest(d)) handle(d);
});
