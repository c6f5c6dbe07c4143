/**
 * The worker bridge (squoosh's shape): typed calls to a worker, one at a time from a queue, with progress events,
 * cancel by AbortSignal and crash recovery. Each worker only declares its protocol (`BridgeProtocol`): how a call
 * becomes a message, and how a message of the worker answers a call (progress, result, error or cancelled).
 *
 *  - Queue: calls run one after another in the order made.
 *  - Progress: `onProgress` of the call receives each progress message of that call.
 *  - Cancel: aborting a queued call drops it; aborting the running call terminates the worker at once (a long job
 *    cannot delay the cancel). Both reject with an AbortError; the next call spawns a fresh worker.
 *  - Crash (worker-slot.ts: onerror, onmessageerror, a spawn that throws) and a message that cannot be sent (a
 *    DataCloneError): the call in flight rejects with an error naming the worker; the next call gets a fresh worker.
 *  - Session state (a loaded model): `prelude` lets the protocol send requests that bring a fresh worker back to it
 *    before a call (pipelined, answered under the call's negative id).
 *  - Idle shutdown: `idleMs` terminates a worker that has had nothing to do for that long.
 */
import { describeError, WorkerSlot, type AnyWorker } from './worker-slot.ts';

/** A worker's calls: per method, its request, its result and (optionally) its progress event. */
export type CallMap = Record<string, { request: unknown; response: unknown; progress?: unknown }>;

/** What a message of the worker means for the bridge. */
export type BridgeReply =
  | { id: number; kind: 'progress'; value: unknown }
  | { id: number; kind: 'result'; value: unknown }
  | { id: number; kind: 'error'; message: string }
  | { id: number; kind: 'cancelled' };

export interface BridgeMessage {
  message: unknown;
  transfer?: Transferable[];
}

export interface BridgeProtocol<C extends CallMap> {
  /** Named in errors ("simulator worker failed: ..."). */
  name: string;
  /** The message that starts call `id`. */
  request<M extends keyof C & string>(method: M, id: number, request: C[M]['request']): BridgeMessage;
  /** What `data` answers, or null for a message that is none of the bridge's (ignored). */
  reply(data: unknown): BridgeReply | null;
  /**
   * Before call `method` goes to the worker of `generation`: a request that restores the session state there first
   * (sent as call -id; its error rejects the call as "<failure>: <message>"), or null.
   */
  prelude?(method: keyof C & string, generation: number): { method: keyof C & string; request: C[keyof C & string]['request']; failure: string } | null;
  /** The error a failed call rejects with (default Error). */
  error?(message: string): Error;
  /** Terminate the worker after this long without calls (milliseconds; 0 or absent: keep it). */
  idleMs?: number;
}

export interface CallOptions<P> {
  signal?: AbortSignal;
  onProgress?: (p: P) => void;
}

interface Pending {
  id: number;
  method: string;
  request: unknown;
  signal?: AbortSignal;
  onProgress?: (p: unknown) => void;
  resolve: (v: unknown) => void;
  reject: (e: unknown) => void;
  onAbort?: () => void;
  prelude?: string;
}

export const abortError = (what: string): DOMException => new DOMException(`${what} cancelled`, 'AbortError');

export class WorkerBridge<C extends CallMap, W extends AnyWorker = AnyWorker> {
  private readonly slot: WorkerSlot<W>;
  private queue: Pending[] = [];
  private current: Pending | null = null;
  private nextId = 1;
  private disposed = false;

  constructor(private readonly protocol: BridgeProtocol<C>, spawn: () => W) {
    this.slot = new WorkerSlot<W>({
      name: protocol.name, spawn, idleMs: protocol.idleMs,
      onMessage: (data) => this.receive(data),
      onCrash: (message) => this.fail(message),
    });
  }

  /** Calls waiting or running. */
  get pending(): number {
    return this.queue.length + (this.current ? 1 : 0);
  }

  /** The live worker's generation (increases with every spawn; 0 before the first). */
  get generation(): number {
    return this.slot.generation;
  }

  /** Whether a worker is spawned now (false after a crash, a cancel, an idle shutdown or dispose). */
  get alive(): boolean {
    return this.slot.current !== null;
  }

  call<M extends keyof C & string>(method: M, request: C[M]['request'], o: CallOptions<C[M]['progress']> = {}): Promise<C[M]['response']> {
    if (this.disposed) return Promise.reject(new Error(`${this.protocol.name} client disposed`));
    if (o.signal?.aborted) return Promise.reject(abortError(method));
    return new Promise((resolve, reject) => {
      const p: Pending = { id: this.nextId++, method, request, signal: o.signal, onProgress: o.onProgress as ((v: unknown) => void) | undefined, resolve, reject };
      if (o.signal) {
        p.onAbort = () => this.abort(p);
        o.signal.addEventListener('abort', p.onAbort, { once: true });
      }
      this.queue.push(p);
      this.slot.busy();
      this.pump();
    });
  }

  /** Terminates the worker (if any) and rejects every call. */
  dispose(): void {
    this.disposed = true;
    this.slot.drop();
    const all = [...(this.current ? [this.current] : []), ...this.queue];
    this.current = null;
    this.queue = [];
    for (const p of all) this.settle(p, () => p.reject(new Error(`${this.protocol.name} client disposed`)));
  }

  private abort(p: Pending): void {
    if (this.current === p) {
      this.current = null;
      this.slot.drop(); // the job stops now, whatever it is doing
      this.settle(p, () => p.reject(abortError(p.method)));
      this.pump();
      return;
    }
    const i = this.queue.indexOf(p);
    if (i >= 0) {
      this.queue.splice(i, 1);
      this.settle(p, () => p.reject(abortError(p.method)));
      if (!this.pending) this.slot.idle();
    }
  }

  private settle(p: Pending, f: () => void): void {
    if (p.signal && p.onAbort) p.signal.removeEventListener('abort', p.onAbort);
    f();
  }

  private error(message: string): Error {
    return this.protocol.error?.(message) ?? new Error(message);
  }

  private pump(): void {
    if (this.current || this.disposed) return;
    const p = this.queue.shift();
    if (!p) {
      this.slot.idle();
      return;
    }
    this.current = p;
    let w: W;
    try {
      w = this.slot.ensure();
    } catch (e) {
      this.current = null;
      this.settle(p, () => p.reject(this.error(describeError(e))));
      this.pump();
      return;
    }
    const generation = this.slot.generation;
    try {
      const pre = this.protocol.prelude?.(p.method as keyof C & string, generation);
      if (pre) {
        p.prelude = pre.failure;
        const m = this.protocol.request(pre.method, -p.id, pre.request);
        w.postMessage(m.message, m.transfer ?? []);
      }
      const m = this.protocol.request(p.method as keyof C & string, p.id, p.request as C[keyof C & string]['request']);
      w.postMessage(m.message, m.transfer ?? []);
    } catch (e) {
      // the request could not be sent (e.g. DataCloneError): this call fails, the worker is unaffected
      this.current = null;
      this.settle(p, () => p.reject(this.error(`${this.protocol.name} worker could not be sent the ${p.method} request: ${describeError(e)}`)));
      this.pump();
    }
  }

  private receive(data: unknown): void {
    const r = this.protocol.reply(data);
    const p = this.current;
    if (!r || !p) return;
    if (r.id === -p.id) {
      // the prelude's answer: only its failure matters
      if (r.kind === 'error') this.finish(p, () => p.reject(this.error(`${p.prelude ?? 'restoring the worker failed'}: ${r.message}`)));
      return;
    }
    if (r.id !== p.id) return; // an answer to a call already cancelled
    switch (r.kind) {
      case 'progress':
        p.onProgress?.(r.value);
        return;
      case 'result':
        this.finish(p, () => p.resolve(r.value));
        return;
      case 'error':
        this.finish(p, () => p.reject(this.error(r.message)));
        return;
      case 'cancelled':
        this.finish(p, () => p.reject(abortError(p.method)));
        return;
    }
  }

  private finish(p: Pending, f: () => void): void {
    this.current = null;
    this.settle(p, f);
    this.pump();
  }

  /** The worker crashed (already dropped): the call in flight fails; the next call gets a fresh worker. */
  private fail(message: string): void {
    const p = this.current;
    this.current = null;
    if (p) this.settle(p, () => p.reject(this.error(message)));
    this.pump();
  }
}
