/**
 * A real worker for the bridge tests: a Node worker thread (worker_threads) running a TypeScript entry through tsx
 * (and the WGSL loader hooks, as the CLI does), behind the DOM Worker surface the studio's clients use
 * (postMessage / terminate / onmessage / onerror / onmessageerror). A thread that exits on its own (process.exit,
 * a fatal error) is reported through onerror, as a browser reports a dead worker.
 */
import { Worker } from 'node:worker_threads';
import { pathToFileURL } from 'node:url';
import type { WorkerLike } from '../../src/workers/worker-slot.ts';

export interface NodeWorker extends WorkerLike {
  /** Resolves with the exit code once the thread is gone (terminated or crashed). */
  exited: Promise<number>;
  threadId: number;
}

const HOOKS = pathToFileURL(`${process.cwd()}/scripts/wgsl-hooks.mjs`).href;

export function spawnNodeWorker(entry: URL): NodeWorker {
  const boot = `import('tsx/esm/api').then(({ register }) => { register(); return import(${JSON.stringify(HOOKS)}); })
    .then(() => import(${JSON.stringify(entry.href)}));`;
  const t = new Worker(boot, { eval: true });
  let terminating = false;
  let reported = false;
  const w: NodeWorker = {
    onmessage: null,
    onerror: null,
    onmessageerror: null,
    threadId: t.threadId,
    exited: new Promise((resolve) => t.once('exit', resolve)),
    postMessage(msg, transfer) {
      t.postMessage(msg, transfer as never);
    },
    terminate() {
      terminating = true;
      void t.terminate();
    },
  };
  t.on('message', (data) => w.onmessage?.({ data }));
  t.on('messageerror', (data) => w.onmessageerror?.({ data }));
  t.on('error', (e) => {
    reported = true;
    w.onerror?.({ message: e.message });
  });
  t.on('exit', (code) => {
    if (!terminating && !reported) w.onerror?.({ message: `the thread exited with code ${code}` });
  });
  return w;
}
