/**
 * A worker thread for the bridge tests, with a protocol of its own: {id, op, arg} in; {id, progress} /
 * {id, result} / {id, error} out. Ops: echo (answers with its thread id), steps (progress every 5 ms, then the
 * result), hang (never answers), throw (an uncaught exception: the thread dies), exit (process.exit(3)),
 * foreign (a message outside the protocol, then the result).
 */
import { parentPort, threadId } from 'node:worker_threads';

interface Req { id: number; op: string; arg?: number }

parentPort!.on('message', (m: Req) => {
  const post = (x: unknown) => parentPort!.postMessage(x);
  switch (m.op) {
    case 'echo':
      post({ id: m.id, result: { threadId, arg: m.arg } });
      break;
    case 'steps': {
      let k = 0;
      const n = m.arg ?? 3;
      const tick = () => {
        k++;
        post({ id: m.id, progress: k });
        if (k < n) setTimeout(tick, 5);
        else post({ id: m.id, result: { threadId, steps: k } });
      };
      setTimeout(tick, 5);
      break;
    }
    case 'hang':
      setInterval(() => {}, 1000);
      break;
    case 'throw':
      setTimeout(() => { throw new Error('kaboom in the worker'); }, 0);
      break;
    case 'exit':
      process.exit(3);
      break;
    case 'foreign':
      post({ hello: 'not an answer' });
      post({ id: m.id, result: { threadId } });
      break;
    case 'fail':
      post({ id: m.id, error: `bad argument ${m.arg}` });
      break;
  }
});
