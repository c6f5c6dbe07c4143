/**
 * The caller's side of the simulator worker, on the studio's worker bridge (src/workers/bridge.ts): jobs (load, run)
 * sent one at a time, progress callbacks, AbortSignal support and errors turned back into rejected promises.
 *
 *  - Abort of a queued job: it is dropped from the queue (rejected with an AbortError).
 *  - Abort of the running job: the worker is terminated at once (a long batch cannot block the cancel), the job is
 *    rejected with an AbortError; the next job spawns a fresh worker and reloads the last model first.
 *  - An `error` message rejects its job with SimJobError(message); a crashed worker (onerror, onmessageerror) rejects
 *    the running job and is replaced for the next one, which gets the last model back.
 *
 * The worker is injected (`spawn`): the page passes spawnSimWorker (a real Web Worker), Node (CLI, tests) passes
 * spawnInProcessSim (in-process.ts), which runs the very same host code (sim.worker.ts createSimHost) in-process
 * behind the same asynchronous message interface; tests pass a fake worker or a worker thread.
 */
import { WorkerBridge, type BridgeProtocol, type BridgeReply } from '../workers/bridge.ts';
import type { WorkerLike } from '../workers/worker-slot.ts';
import {
  isSimResponse, type SimBatch, type SimDevice, type SimModelInfo, type SimProgress, type SimRequest, type SimRunOutput,
} from './protocol.ts';

/** The part of `Worker` the client uses. */
export type SimWorkerLike = WorkerLike<SimRequest>;

export class SimJobError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'SimJobError';
  }
}

interface LoadRequest { bytes: Uint8Array; file?: string; device?: SimDevice }

/** The simulator's calls on the bridge. */
type SimCalls = {
  load: { request: LoadRequest; response: SimModelInfo };
  run: { request: { batches: SimBatch[]; dump?: boolean | string[] }; response: SimRunOutput; progress: SimProgress };
};

/** The wire form of each call and answer (protocol.ts): requests and answers carry the call's id as `job`. */
function simProtocol(prelude: BridgeProtocol<SimCalls>['prelude']): BridgeProtocol<SimCalls> {
  return {
    name: 'simulator',
    request(method, job, req) {
      if (method === 'load') {
        const r = req as LoadRequest;
        return { message: { type: 'load', job, bytes: r.bytes.slice(), file: r.file, ...(r.device ? { device: r.device } : {}) } satisfies SimRequest };
      }
      const r = req as SimCalls['run']['request'];
      return { message: { type: 'run', job, batches: r.batches, dump: r.dump } satisfies SimRequest };
    },
    reply(data): BridgeReply | null {
      if (!isSimResponse(data)) return null;
      switch (data.type) {
        case 'progress': {
          const { type: _t, job: _j, ...p } = data;
          return { id: data.job, kind: 'progress', value: p };
        }
        case 'loaded':
          return { id: data.job, kind: 'result', value: data.info };
        case 'result': {
          const { type: _t, job: _j, ...out } = data;
          return { id: data.job, kind: 'result', value: out };
        }
        case 'cancelled':
          return { id: data.job, kind: 'cancelled' };
        case 'error':
          return { id: data.job, kind: 'error', message: data.message };
      }
    },
    prelude,
    error: (message) => new SimJobError(message),
  };
}

export class SimClient {
  private readonly bridge: WorkerBridge<SimCalls, SimWorkerLike>;
  /** The last model loaded, reloaded into a fresh worker after a terminate or a crash. */
  private model: LoadRequest | null = null;
  /** The worker generation that holds `model` (-1: none). */
  private loadedIn = -1;

  constructor(spawn: () => SimWorkerLike) {
    this.bridge = new WorkerBridge<SimCalls, SimWorkerLike>(simProtocol((method, generation) => {
      if (method === 'load') {
        this.loadedIn = generation;
        return null;
      }
      if (!this.model || this.loadedIn === generation) return null;
      this.loadedIn = generation;
      return { method: 'load', request: this.model, failure: 'reloading the model failed' };
    }), spawn);
  }

  /** Loads a model file (bytes of model-file.ts) to run on `device` (default cpu); resolves with its summary. */
  async load(bytes: Uint8Array, o: { file?: string; signal?: AbortSignal; device?: SimDevice } = {}): Promise<SimModelInfo> {
    const req: LoadRequest = { bytes: bytes.slice(), file: o.file, device: o.device };
    try {
      const info = await this.bridge.call('load', req, { signal: o.signal });
      this.model = req;
      return info;
    } catch (e) {
      this.loadedIn = -1; // the worker may hold no model now
      throw e;
    }
  }

  /** Runs batches (float NCHW inputs); resolves with the dequantized outputs (and dumps when asked). */
  async run(batches: SimBatch[], o: { dump?: boolean | string[]; signal?: AbortSignal; onProgress?: (p: SimProgress) => void } = {}): Promise<SimRunOutput> {
    try {
      return await this.bridge.call('run', { batches, dump: o.dump }, { signal: o.signal, onProgress: o.onProgress });
    } catch (e) {
      if (e instanceof SimJobError && e.message.startsWith('reloading the model failed')) this.loadedIn = -1;
      throw e;
    }
  }

  /** Jobs waiting or running. */
  get pending(): number {
    return this.bridge.pending;
  }

  dispose(): void {
    this.bridge.dispose();
  }
}

export type RunOptions = Parameters<SimClient['run']>[1];

/** The real worker (Vite bundles sim.worker.ts and everything it imports as an ES module worker). */
export function spawnSimWorker(): SimWorkerLike {
  const w = new Worker(new URL('./sim.worker.ts', import.meta.url), { type: 'module', name: 'simulator' });
  return w as unknown as SimWorkerLike;
}
