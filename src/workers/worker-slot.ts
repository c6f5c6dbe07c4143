/**
 * One worker, spawned on demand and replaced after a crash: the part every worker of the studio shares (training,
 * simulator, decode, layout, ONNX import). A crash is whatever leaves the worker unusable or its answer lost:
 * `onerror` (the script failed to load, or threw outside a handler), `onmessageerror` (a message that could not be
 * deserialized) or a spawn that throws. The slot then terminates the worker, reports the crash with a message
 * naming the worker, and the next `ensure()` spawns a fresh one. Optional idle shutdown: a worker nobody used for
 * `idleMs` is terminated (it is spawned again on the next use).
 *
 * The worker is injected (`spawn`): the page passes `new Worker(...)`, Node and the tests pass in-process hosts,
 * worker_threads adapters or fakes with the same surface.
 */

export interface WorkerErrorLike {
  message?: string;
  preventDefault?: () => void;
}

/** The part of `Worker` the studio uses (a DOM Worker has it; so do the in-process hosts and the test adapters). */
export interface WorkerLike<In = unknown> {
  postMessage(msg: In, transfer?: Transferable[]): void;
  terminate(): void;
  onmessage: ((ev: { data: unknown }) => void) | null;
  onerror: ((ev: WorkerErrorLike) => void) | null;
  onmessageerror?: ((ev: { data?: unknown }) => void) | null;
}

/** Any worker-shaped object, whatever its message types (the slot only forwards messages). */
export type AnyWorker = WorkerLike<any>;

export interface WorkerSlotOptions<W extends AnyWorker> {
  /** Named in crash messages: "<name> worker failed: ...". */
  name: string;
  spawn: () => W;
  /** Every message of the live worker (messages of a dropped worker never arrive here). */
  onMessage(data: unknown, worker: W): void;
  /** The live worker crashed; it is already dropped. */
  onCrash(message: string): void;
  /** Called with each fresh worker before it is used (e.g. to send it an init message). */
  onSpawn?(worker: W): void;
  /** Terminate a worker idle for this long (milliseconds; 0 or absent: keep it). */
  idleMs?: number;
}

/** The text of an error of any shape. */
export function describeError(e: unknown): string {
  if (e instanceof Error) return e.message || e.name;
  if (typeof e === 'string') return e;
  try {
    return JSON.stringify(e) ?? String(e);
  } catch {
    return String(e);
  }
}

export class WorkerSlot<W extends AnyWorker> {
  private worker: W | null = null;
  private idleTimer: ReturnType<typeof setTimeout> | null = null;
  /** Increases with every spawn: state a worker holds belongs to one generation. */
  generation = 0;

  constructor(private readonly o: WorkerSlotOptions<W>) {}

  get name(): string {
    return this.o.name;
  }

  /** The live worker, if one is spawned. */
  get current(): W | null {
    return this.worker;
  }

  /** The live worker, spawned if needed. Throws (with the worker named) when it cannot be started. */
  ensure(): W {
    this.busy();
    if (this.worker) return this.worker;
    let w: W;
    try {
      w = this.o.spawn();
    } catch (e) {
      throw new Error(`${this.o.name} worker could not be started: ${describeError(e)}`);
    }
    this.worker = w;
    this.generation++;
    w.onmessage = (ev) => {
      if (this.worker === w) this.o.onMessage(ev.data, w);
    };
    w.onerror = (ev) => {
      if (this.worker !== w) return;
      ev?.preventDefault?.();
      const what = ev?.message ? describeError(ev.message) : 'unknown error (the worker script may have failed to load)';
      this.crash(`${this.o.name} worker failed: ${what}`);
    };
    w.onmessageerror = () => {
      if (this.worker === w) this.crash(`${this.o.name} worker failed: one of its messages could not be read (deserialization failed)`);
    };
    this.o.onSpawn?.(w);
    return w;
  }

  /** Drops the live worker as crashed (e.g. it answered something outside its protocol). */
  crash(message: string): void {
    if (!this.worker) return;
    this.drop();
    this.o.onCrash(message);
  }

  /** Terminates the live worker (if any); the next ensure() spawns a fresh one. */
  drop(): void {
    this.clearIdle();
    const w = this.worker;
    this.worker = null;
    if (!w) return;
    w.onmessage = null;
    w.onerror = null;
    w.onmessageerror = null;
    try {
      w.terminate();
    } catch {
      // already gone
    }
  }

  /** Work is pending: no idle shutdown now. */
  busy(): void {
    this.clearIdle();
  }

  /** Nothing is pending: start the idle countdown (when idleMs is set). */
  idle(): void {
    this.clearIdle();
    const ms = this.o.idleMs ?? 0;
    if (ms > 0 && this.worker) {
      this.idleTimer = setTimeout(() => {
        this.idleTimer = null;
        this.drop();
      }, ms);
      // an idle countdown alone must not keep Node (CLI, tests) alive
      (this.idleTimer as { unref?: () => void }).unref?.();
    }
  }

  private clearIdle(): void {
    if (this.idleTimer) clearTimeout(this.idleTimer);
    this.idleTimer = null;
  }
}
