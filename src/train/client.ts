/**
 * The page's side of the training worker: spawns it, sends typed requests, fans worker messages out
 * to listeners and keeps the run lifecycle honest (one run at a time; pause/resume/cancel only while
 * a run is live). A cancel the worker does not acknowledge in time (a kernel stuck in a long
 * dispatch) terminates the worker and spawns a fresh one, as squoosh's worker bridge does.
 *
 * The worker is injected (`spawn`), so tests drive the client with a fake worker. Spawning, crash detection
 * (onerror, onmessageerror) and replacement are the shared worker slot's (src/workers/worker-slot.ts).
 */
import { WorkerSlot, type WorkerLike as SlotWorkerLike } from '../workers/worker-slot.ts';
import {
  errorText, isWorkerMessage, type BackendPreference, type ResultScope, type TrainJobConfig, type TrainRequest, type WorkerMessage,
} from './protocol.ts';
import type { TorchImportFiles } from '../io/torch/import-checkpoint.ts';
import type { ModelChoice } from './model-protocol.ts';
import type { AnalysisRequest } from './analysis-protocol.ts';
import type { CalibJobConfig, DataChoice, DataPrep, DeployJobConfig, QatJobConfig, QuantRequest, QuantStage } from './quant-protocol.ts';

/** The kind of the job in flight: float training, calibration, QAT, the deployment check or a precision analysis. */
export type JobKind = 'train' | QuantStage | 'deploy' | 'analysis';

/** The page's answer to a deploy-sim-request (the simulator's output for one batch, or why it failed). */
export type DeploySimReply = Extract<QuantRequest, { type: 'deploy-sim-result' | 'deploy-sim-error' }>;

/** The message that ends a job of this kind when the worker cannot say so itself (cancel timeout, crash). */
function endOf(job: JobKind | null, how: 'cancelled' | { error: string }): WorkerMessage {
  if (how === 'cancelled') {
    if (job === 'calib' || job === 'qat') return { type: 'quant-cancelled', stage: job };
    if (job === 'analysis') return { type: 'analysis-cancelled' };
    return job === 'deploy' ? { type: 'deploy-cancelled' } : { type: 'cancelled', step: -1 };
  }
  if (job === 'analysis') return { type: 'analysis-error', message: how.error };
  if (job === 'calib' || job === 'qat') return { type: 'quant-error', stage: job, message: how.error };
  return job === 'deploy' ? { type: 'deploy-error', message: how.error } : { type: 'error', message: how.error };
}

/** The part of `Worker` the client uses. */
export type WorkerLike = SlotWorkerLike<TrainRequest>;

export type ClientPhase = 'idle' | 'running' | 'cancelling' | 'disposed';
export type ClientListener = (msg: WorkerMessage) => void;

export interface TrainingClientOptions {
  prefer?: BackendPreference;
  /** Milliseconds to wait for a cancel to be acknowledged before the worker is terminated. */
  cancelTimeoutMs?: number;
}

export class TrainingClient {
  /** The worker, spawned on demand and replaced after a crash (src/workers/worker-slot.ts, shared by every worker). */
  private readonly slot: WorkerSlot<WorkerLike>;
  private listeners = new Set<ClientListener>();
  private cancelTimer: ReturnType<typeof setTimeout> | null = null;
  private _phase: ClientPhase = 'idle';
  private _job: JobKind | null = null;
  private prefer: BackendPreference;
  private readonly cancelTimeoutMs: number;

  constructor(spawn: () => WorkerLike, o: TrainingClientOptions = {}) {
    this.prefer = o.prefer ?? 'auto';
    this.cancelTimeoutMs = o.cancelTimeoutMs ?? 20_000;
    // A session worker (start, then many events), not calls: the slot gives it spawn, crash detection and replacement.
    this.slot = new WorkerSlot<WorkerLike>({
      name: 'training',
      spawn,
      onSpawn: (w) => w.postMessage({ type: 'init', prefer: this.prefer }),
      onMessage: (data) => {
        if (isWorkerMessage(data)) this.receive(data);
      },
      onCrash: (message) => {
        // The worker script failed (did not load, or threw outside a run): it is dropped; the next call spawns anew.
        if (this.cancelTimer) clearTimeout(this.cancelTimer);
        this.cancelTimer = null;
        if (this._phase === 'running' || this._phase === 'cancelling') this.finish(endOf(this._job, { error: message }));
        else this.emit({ type: 'error', message });
      },
    });
  }

  private get worker(): WorkerLike | null {
    return this.slot.current;
  }

  get phase(): ClientPhase {
    return this._phase;
  }

  /** The job in flight (null when idle). */
  get job(): JobKind | null {
    return this._phase === 'idle' || this._phase === 'disposed' ? null : this._job;
  }

  get backendPreference(): BackendPreference {
    return this.prefer;
  }

  subscribe(listener: ClientListener): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }

  /** Spawns the worker (if needed) and asks it for its backend; it answers `ready`. */
  connect(): void {
    this.ensureWorker();
  }

  /** Switches the backend: a fresh worker, so the old device and its memory go with the old one. */
  setBackend(prefer: BackendPreference): void {
    this.assertNot('disposed');
    if (this._phase !== 'idle') throw new Error('cannot change the backend while training');
    this.prefer = prefer;
    this.dropWorker();
    this.ensureWorker();
  }

  start(config: TrainJobConfig): void {
    this.begin('train', { type: 'start', config: { ...config } });
  }

  calibrate(config: CalibJobConfig): void {
    this.begin('calib', { type: 'calibrate', config });
  }

  qat(config: QatJobConfig): void {
    this.begin('qat', { type: 'qat', config });
  }

  /** A PyTorch QAT result (the folder train_qat.py writes) as the QAT model. */
  importTorch(files: TorchImportFiles, testImages: number): void {
    this.begin('qat', { type: 'import-torch', files, testImages });
  }

  /** The deployment check of the kept QAT / calibrated model; the page answers its deploy-sim-requests with `deploySim`. */
  deployCheck(config: DeployJobConfig): void {
    this.begin('deploy', { type: 'deploy-check', config: { ...config } });
  }

  /** A precision analysis of the kept quantized model (or its int16-for-top-K check). */
  analyze(req: AnalysisRequest): void {
    this.begin('analysis', req);
  }

  /** The simulator's answer to one deploy-sim-request (dropped when no deployment check runs any more). */
  deploySim(reply: DeploySimReply): void {
    if (this._job !== 'deploy' || (this._phase !== 'running' && this._phase !== 'cancelling')) return;
    this.worker?.postMessage(reply);
  }

  /** The data the next jobs use (a dropped data set is copied to the worker). Not while a job runs. */
  setData(data: DataChoice, prep: DataPrep): void {
    this.assertNot('disposed');
    if (this._phase !== 'idle') throw new Error('cannot change the data while a job runs');
    this.ensureWorker().postMessage({ type: 'set-data', data, prep });
  }

  /** The model the next float run uses (a zoo name, or an imported graph + weights). Not while a job runs. */
  setModel(model: ModelChoice): void {
    this.assertNot('disposed');
    if (this._phase !== 'idle') throw new Error('cannot change the model while a job runs');
    this.ensureWorker().postMessage({ type: 'set-model', model });
  }

  /** Checkpoints of a saved project (or of the model and data just switched to), so the worker continues where they were. */
  restore(float: Uint8Array | null, calib: Uint8Array | null, qat: Uint8Array | null, scope?: ResultScope): void {
    this.assertNot('disposed');
    this.ensureWorker().postMessage({ type: 'restore', float, calib, qat, ...(scope ? { scope } : {}) });
  }

  private begin(kind: JobKind, req: TrainRequest): void {
    this.assertNot('disposed');
    if (this._phase !== 'idle') throw new Error(this._job === 'train' ? 'a training run is already in progress' : 'another job is running');
    this._phase = 'running';
    this._job = kind;
    this.ensureWorker().postMessage(req);
  }

  pause(): void {
    if (this._phase === 'running') this.worker?.postMessage({ type: 'pause' });
  }

  resume(): void {
    if (this._phase === 'running') this.worker?.postMessage({ type: 'resume' });
  }

  cancel(): void {
    if (this._phase !== 'running') return;
    this._phase = 'cancelling';
    this.worker?.postMessage({ type: 'cancel' });
    this.cancelTimer = setTimeout(() => {
      this.cancelTimer = null;
      if (this._phase !== 'cancelling') return;
      // The worker did not answer: end it and start over with a fresh one.
      this.dropWorker();
      this.finish(endOf(this._job, 'cancelled'));
      this.ensureWorker();
    }, this.cancelTimeoutMs);
  }

  dispose(): void {
    this.dropWorker();
    this.listeners.clear();
    this._phase = 'disposed';
  }

  private assertNot(p: ClientPhase): void {
    if (this._phase === p) throw new Error(`training client is ${p}`);
  }

  private ensureWorker(): WorkerLike {
    return this.slot.ensure();
  }

  private dropWorker(): void {
    if (this.cancelTimer) clearTimeout(this.cancelTimer);
    this.cancelTimer = null;
    this.slot.drop();
  }

  private receive(msg: WorkerMessage): void {
    switch (msg.type) {
      case 'done':
      case 'cancelled':
      case 'quant-done':
      case 'quant-cancelled':
      case 'deploy-done':
      case 'deploy-cancelled':
      case 'analysis-done':
      case 'analysis-int16-done':
      case 'analysis-cancelled':
        this.finish(msg);
        return;
      case 'quant-error':
      case 'deploy-error':
      case 'analysis-error':
        if (this._phase === 'running' || this._phase === 'cancelling') this.finish(msg);
        else this.emit(msg);
        return;
      case 'error':
        // An error ends a run only while one is live (an init error arrives while idle).
        if (this._phase === 'running' || this._phase === 'cancelling') this.finish(msg);
        else this.emit(msg);
        return;
      default:
        this.emit(msg);
    }
  }

  private finish(msg: WorkerMessage): void {
    if (this.cancelTimer) clearTimeout(this.cancelTimer);
    this.cancelTimer = null;
    if (this._phase !== 'disposed') this._phase = 'idle';
    this.emit(msg);
  }

  private emit(msg: WorkerMessage): void {
    for (const l of [...this.listeners]) l(msg);
  }
}

/** The real worker (Vite bundles training.worker.ts and everything it imports as an ES module worker). */
export function spawnTrainingWorker(): WorkerLike {
  const w = new Worker(new URL('./training.worker.ts', import.meta.url), { type: 'module', name: 'training' });
  return w as unknown as WorkerLike;
}
