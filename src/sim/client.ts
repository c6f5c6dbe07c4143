/**
 * The caller's side of the simulator worker: a queue of jobs (load, run) sent one at a time, progress callbacks,
 * AbortSignal support and errors turned back into rejected promises.
 *
 *  - Abort of a queued job: it is dropped from the queue (rejected with an AbortError).
 *  - Abort of the running job: the worker is terminated at once (a long batch cannot block the cancel), the job is
 *    rejected with an AbortError; the next job spawns a fresh worker and reloads the last model first.
 *  - An `error` message rejects its job with SimJobError(message); a crashed worker (onerror) rejects the running
 *    job and is replaced for the next one.
 *
 * The worker is injected (`spawn`): the page passes spawnSimWorker (a real Web Worker), Node (CLI, tests) passes
 * spawnInProcessSim (in-process.ts), which runs the very same host code (sim.worker.ts createSimHost) in-process behind the same
 * asynchronous message interface; tests pass a fake worker.
 */
import {
  isSimResponse, simErrorText, type SimBatch, type SimDevice, type SimModelInfo, type SimProgress, type SimRequest, type SimResponse,
  type SimRunOutput,
} from './protocol.ts';

/** The part of `Worker` the client uses. */
export interface SimWorkerLike {
  postMessage(msg: SimRequest, transfer?: Transferable[]): void;
  terminate(): void;
  onmessage: ((ev: { data: unknown }) => void) | null;
  onerror: ((ev: { message?: string; preventDefault?: () => void }) => void) | null;
}

export class SimJobError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'SimJobError';
  }
}

const abortError = (what: string) => new DOMException(`${what} cancelled`, 'AbortError');

interface Job {
  id: number;
  request: SimRequest;
  signal?: AbortSignal;
  onProgress?: (p: SimProgress) => void;
  resolve: (v: SimResponse) => void;
  reject: (e: unknown) => void;
  started: boolean;
  onAbort?: () => void;
}

export interface RunOptions {
  dump?: boolean | string[];
  signal?: AbortSignal;
  onProgress?: (p: SimProgress) => void;
}

export class SimClient {
  private worker: SimWorkerLike | null = null;
  private queue: Job[] = [];
  private current: Job | null = null;
  private nextId = 1;
  /** The last model loaded, reloaded into a fresh worker after a terminate. */
  private model: { bytes: Uint8Array; file?: string; device?: SimDevice } | null = null;
  private workerHasModel = false;
  private disposed = false;

  constructor(private readonly spawn: () => SimWorkerLike) {}

  /** Loads a model file (bytes of model-file.ts) to run on `device` (default cpu); resolves with its summary. */
  async load(bytes: Uint8Array, o: { file?: string; signal?: AbortSignal; device?: SimDevice } = {}): Promise<SimModelInfo> {
    const copy = bytes.slice();
    const r = await this.enqueue({ type: 'load', job: 0, bytes: copy, file: o.file, ...(o.device ? { device: o.device } : {}) }, o.signal);
    if (r.type !== 'loaded') throw new Error(`unexpected answer ${r.type}`);
    this.model = { bytes: copy, file: o.file, device: o.device };
    return r.info;
  }

  /** Runs batches (float NCHW inputs); resolves with the dequantized outputs (and dumps when asked). */
  async run(batches: SimBatch[], o: RunOptions = {}): Promise<SimRunOutput> {
    const r = await this.enqueue({ type: 'run', job: 0, batches, dump: o.dump }, o.signal, o.onProgress);
    if (r.type === 'cancelled') throw abortError('simulation');
    if (r.type !== 'result') throw new Error(`unexpected answer ${r.type}`);
    const { type: _t, job: _j, ...out } = r;
    return out;
  }

  /** Jobs waiting or running. */
  get pending(): number {
    return this.queue.length + (this.current ? 1 : 0);
  }

  dispose(): void {
    this.disposed = true;
    this.dropWorker();
    const jobs = [...(this.current ? [this.current] : []), ...this.queue];
    this.current = null;
    this.queue = [];
    for (const j of jobs) this.settle(j, () => j.reject(new Error('simulator client disposed')));
  }

  private enqueue(request: SimRequest, signal?: AbortSignal, onProgress?: (p: SimProgress) => void): Promise<SimResponse> {
    if (this.disposed) return Promise.reject(new Error('simulator client disposed'));
    if (signal?.aborted) return Promise.reject(abortError(request.type));
    return new Promise<SimResponse>((resolve, reject) => {
      const id = this.nextId++;
      const job: Job = { id, request: { ...request, job: id } as SimRequest, signal, onProgress, resolve, reject, started: false };
      if (signal) {
        job.onAbort = () => this.abort(job);
        signal.addEventListener('abort', job.onAbort, { once: true });
      }
      this.queue.push(job);
      this.pump();
    });
  }

  private abort(job: Job): void {
    if (this.current === job) {
      // Terminate the worker: the run stops now, whatever batch it is in.
      this.current = null;
      this.dropWorker();
      this.settle(job, () => job.reject(abortError(job.request.type)));
      this.pump();
      return;
    }
    const i = this.queue.indexOf(job);
    if (i >= 0) {
      this.queue.splice(i, 1);
      this.settle(job, () => job.reject(abortError(job.request.type)));
    }
  }

  private settle(job: Job, f: () => void): void {
    if (job.signal && job.onAbort) job.signal.removeEventListener('abort', job.onAbort);
    f();
  }

  private pump(): void {
    if (this.current || this.disposed) return;
    const job = this.queue.shift();
    if (!job) return;
    this.current = job;
    job.started = true;
    const w = this.ensureWorker();
    // A fresh worker (after a terminate or a crash) gets the last model back before a run.
    if (job.request.type === 'run' && !this.workerHasModel && this.model) {
      w.postMessage({ type: 'load', job: -job.id, bytes: this.model.bytes.slice(), file: this.model.file, ...(this.model.device ? { device: this.model.device } : {}) });
      this.workerHasModel = true;
    }
    if (job.request.type === 'load') this.workerHasModel = true;
    w.postMessage(job.request);
  }

  private ensureWorker(): SimWorkerLike {
    if (this.worker) return this.worker;
    const w = this.spawn();
    this.worker = w;
    this.workerHasModel = false;
    w.onmessage = (ev) => {
      if (this.worker !== w) return; // a message from a worker already dropped
      if (isSimResponse(ev.data)) this.receive(ev.data);
    };
    w.onerror = (ev) => {
      if (this.worker !== w) return;
      ev.preventDefault?.();
      this.dropWorker();
      const job = this.current;
      this.current = null;
      if (job) this.settle(job, () => job.reject(new SimJobError(`simulator worker failed: ${ev.message ? simErrorText(ev.message) : 'unknown error (the worker script may have failed to load)'}`)));
      this.pump();
    };
    return w;
  }

  private dropWorker(): void {
    const w = this.worker;
    this.worker = null;
    this.workerHasModel = false;
    if (w) {
      w.onmessage = null;
      w.onerror = null;
      w.terminate();
    }
  }

  private receive(msg: SimResponse): void {
    const job = this.current;
    if (msg.job < 0 && job && msg.job === -job.id) {
      // the automatic reload before a run
      if (msg.type === 'error') {
        this.current = null;
        this.workerHasModel = false;
        this.settle(job, () => job.reject(new SimJobError(`reloading the model failed: ${msg.message}`)));
        this.pump();
      }
      return;
    }
    if (!job || msg.job !== job.id) return;
    if (msg.type === 'progress') {
      const { type: _t, job: _j, ...p } = msg;
      job.onProgress?.(p);
      return;
    }
    this.current = null;
    if (msg.type === 'error') {
      if (job.request.type === 'load') this.workerHasModel = false;
      this.settle(job, () => job.reject(new SimJobError(msg.message)));
    } else {
      this.settle(job, () => job.resolve(msg));
    }
    this.pump();
  }
}

/** The real worker (Vite bundles sim.worker.ts and everything it imports as an ES module worker). */
export function spawnSimWorker(): SimWorkerLike {
  const w = new Worker(new URL('./sim.worker.ts', import.meta.url), { type: 'module', name: 'simulator' });
  return w as unknown as SimWorkerLike;
}
