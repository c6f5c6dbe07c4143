import type { GpuContext } from '../engine/webgpu/gpu-context.ts';
import type { SimWorkerLike } from './client.ts';
import type { SimRequest } from './protocol.ts';
import { createSimHost } from './sim.worker.ts';

/**
 * An in-process "worker": the same host code as sim.worker.ts, behind the asynchronous message interface
 * (messages are delivered on later macrotasks, never synchronously). terminate() silences it: it stops at the next
 * batch boundary and nothing more is delivered. For Node (CLI, tests); the page uses spawnSimWorker.
 */
export function spawnInProcessSim(o: { gpu?: () => Promise<GpuContext> } = {}): SimWorkerLike {
  let alive = true;
  const w: SimWorkerLike = {
    onmessage: null,
    onerror: null,
    postMessage(msg: SimRequest) {
      setTimeout(() => { if (alive) handle(msg); }, 0);
    },
    terminate() {
      alive = false;
    },
  };
  const handle = createSimHost({
    gpu: o.gpu,
    post: (m) => setTimeout(() => { if (alive) w.onmessage?.({ data: m }); }, 0),
    yieldNow: () => new Promise<void>((resolve, reject) => setTimeout(() => (alive ? resolve() : reject(new Error('terminated'))), 0)),
  });
  return w;
}
