/**
 * The training worker: owns the compute backend (WebGPU in the worker, else the CPU reference), the
 * loaded data set (built-in or dropped) and the trained weights (float, calib, qat: worker-state.ts),
 * and runs float training, calibration and QAT (quant-jobs.ts) off the page's main thread, so the
 * page stays responsive even when the CPU fallback computes. Speaks protocol.ts.
 *
 * The message handling is `createTrainingHost` (plain functions, testable in Node with a fake
 * backend factory and data loader); the last lines bind it to the worker global when loaded as one.
 */
import type { Backend } from '../engine/backend.ts';
import { createBrowserBackend, type BrowserBackend } from '../engine/create-browser-backend.ts';
import { randomSubset, type ImageDataset, type TrainTestData } from '../data/dataset.ts';
import { runCalibration, runQat, type JobContext } from './quant-jobs.ts';
import { runImportTorch } from './import-torch-job.ts';
import { createSimBridge, pickDeploySource, runDeployCheck, type DeploySimAnswer } from './deploy-job.ts';
import type { QuantStage } from './quant-protocol.ts';
import { assertScope, WorkerState } from './worker-state.ts';
import { runAnalysisJob, runInt16Job } from './analysis-job.ts';
import { loadFashionMnist } from '../data/fashion-mnist.ts';
import { batchCount } from '../data/loader.ts';
import { ParamStore } from '../nn/params.ts';
import { evaluateOnly, floatModelFor } from './model-job.ts';
import { Cancelled, train } from './trainer.ts';
import {
  errorText, isTrainRequest, sameScope, type BackendPreference, type TrainJobConfig, type TrainRequest, type WorkerMessage,
} from './protocol.ts';
import { reportUnhandledRejections } from '../workers/worker-scope.ts';

export interface TrainingHostDeps {
  post(msg: WorkerMessage): void;
  createBackend?(prefer: BackendPreference): Promise<BrowserBackend>;
  loadData?(): Promise<TrainTestData>;
}

interface Job {
  abort: AbortController;
  paused: boolean;
  step: number;
  wake: (() => void) | null;
}

/** A seed-0 random subset (the CLI's --subset / --test-subset), or the whole split. */
function pick(ds: ImageDataset, n: number): ImageDataset {
  return n < ds.count ? randomSubset(ds, n, 0) : ds;
}

function isLost(be: Backend): boolean {
  return be.kind === 'webgpu' && (be as Backend & { ctx?: { lost?: unknown } }).ctx?.lost != null;
}

export function createTrainingHost(deps: TrainingHostDeps): (req: TrainRequest) => void {
  const post = deps.post;
  const makeBackend = deps.createBackend ?? ((prefer) => createBrowserBackend({ prefer }));
  const loadData = deps.loadData ?? (() => loadFashionMnist());
  let prefer: BackendPreference = 'auto';
  let backend: Promise<BrowserBackend> | null = null;
  const state = new WorkerState(loadData);
  let job: Job | null = null;

  const announce = (b: BrowserBackend) => {
    const adapter = b.isFallbackAdapter ? `${b.backend.adapter} (software adapter)` : b.backend.adapter;
    post({ type: 'ready', backend: b.backend.kind, adapter, ...(b.reason ? { reason: b.reason } : {}) });
  };

  const init = (p: BackendPreference): Promise<BrowserBackend> => {
    prefer = p;
    const old = backend;
    backend = (async () => {
      if (old) (await old.catch(() => null))?.backend.dispose();
      const b = await makeBackend(p);
      announce(b);
      return b;
    })();
    backend.catch((e) => post({ type: 'error', message: `could not create a backend: ${errorText(e)}` }));
    return backend;
  };

  /** The backend, re-created (and announced again) when its WebGPU device was lost. */
  const currentBackend = async (): Promise<Backend> => {
    let b = await (backend ?? init(prefer));
    if (isLost(b.backend)) b = await init(prefer);
    return b.backend;
  };

  const run = async (cfg: TrainJobConfig, j: Job) => {
    let store: ParamStore | null = null;
    try {
      const be = await currentBackend();
      const d = await state.data();
      if (j.abort.signal.aborted) throw new Cancelled();
      assertScope(cfg.mode === 'evaluate' ? 'evaluation' : 'training', cfg.scope, null, state.dataKey);
      const trainDs = pick(d.train, cfg.trainImages);
      const testDs = pick(d.test, cfg.testImages);
      const scope = cfg.scope ? { scope: cfg.scope } : {};
      // Evaluate: the kept float model when it is this scope's, else the model as it is (an imported model's weights).
      const kept = cfg.mode === 'evaluate' && state.float && cfg.scope && sameScope(state.float.scope, cfg.scope) ? state.float : null;
      if (cfg.mode === 'evaluate' && !kept && !state.imported) {
        throw new Error(`${cfg.model} has no trained weights for this data yet: train it first`);
      }
      const { graph, host } = kept ? { graph: kept.graph, host: kept.host } : floatModelFor(cfg, state.imported, [d.train.channels, d.train.height, d.train.width], d.train.numClasses);
      store = new ParamStore(be, graph, host);
      const evaluating = cfg.mode === 'evaluate' || cfg.epochs === 0;
      post({ type: 'started', totalSteps: evaluating ? 0 : batchCount(trainDs.count, cfg.batchSize) * cfg.epochs, trainImages: evaluating ? 0 : trainDs.count, testImages: testDs.count });
      if (evaluating) {
        // No training: evaluate the model as it is.
        const t0 = performance.now();
        const ev = await evaluateOnly(be, graph, store, testDs, d.normalize, j.abort.signal);
        post({ type: 'epoch', epoch: 0, acc1: ev.acc1, acc5: ev.acc5, loss: NaN });
        if (!kept) post({ type: 'checkpoint', stage: 'float', bytes: state.setFloat({ model: cfg.model, graph, host: await store.toHost(), ...scope }), ...scope });
        post({ type: 'done', seconds: (performance.now() - t0) / 1000, imagesPerSecond: 0, steps: 0 });
        return;
      }
      const result = await train(be, graph, store, trainDs, testDs, {
        epochs: cfg.epochs, batchSize: cfg.batchSize, seed: cfg.seed, normalize: d.normalize,
        optimizer: { name: cfg.optimizer, lr: cfg.lr, momentum: 0.9 },
        schedule: cfg.schedule,
      }, {
        signal: j.abort.signal,
        onProgress: (p) => {
          j.step = p.step;
          post({ type: 'progress', ...p });
        },
        onEpoch: (r) => post({ type: 'epoch', epoch: r.epoch, acc1: r.acc1, acc5: r.acc5, loss: r.loss }),
        waitIfPaused: async () => {
          if (!j.paused || j.abort.signal.aborted) return;
          post({ type: 'paused', step: j.step });
          await new Promise<void>((resolve) => { j.wake = resolve; });
          j.wake = null;
          if (j.abort.signal.aborted) throw new Cancelled();
          post({ type: 'resumed', step: j.step });
        },
      });
      post({ type: 'checkpoint', stage: 'float', bytes: state.setFloat({ model: cfg.model, graph, host: await store.toHost(), ...scope }), ...scope });
      post({ type: 'done', seconds: result.seconds, imagesPerSecond: result.imagesPerSecond, steps: result.steps });
    } catch (e) {
      if (j.abort.signal.aborted) post({ type: 'cancelled', step: j.step });
      else post({ type: 'error', message: errorText(e) });
    } finally {
      try {
        store?.dispose();
      } catch {
        // a lost device cannot release its buffers; the backend is re-created on the next run
      }
      job = null;
    }
  };

  /** Calibration or QAT on the kept weights and the loaded data; quant-cancelled / quant-error end it. */
  const runQuant = async (stage: QuantStage, j: Job, body: (ctx: JobContext) => Promise<void>) => {
    // The final message goes out after the job is cleared, so the page may start the next job at once.
    let final: WorkerMessage | null = null;
    try {
      const ctx: JobContext = { be: await currentBackend(), post: (m) => (m.type === 'quant-done' ? (final = m) : post(m)), signal: j.abort.signal };
      await body(ctx);
    } catch (e) {
      final = j.abort.signal.aborted ? { type: 'quant-cancelled', stage } : { type: 'quant-error', stage, message: errorText(e) };
    } finally {
      job = null;
    }
    if (final) post(final);
  };

  /** The deployment check's simulator round trip (the page answers each batch); null when no check runs. */
  let simAnswer: ((m: DeploySimAnswer) => void) | null = null;

  /** Deployment check: deploy-done, deploy-cancelled or deploy-error end it (the final message after the job is cleared). */
  const runDeploy = async (j: Job, cfg: Extract<TrainRequest, { type: 'deploy-check' }>['config']) => {
    let final: WorkerMessage;
    const bridge = createSimBridge(post, j.abort.signal);
    simAnswer = bridge.answer;
    try {
      const ctx: JobContext = { be: await currentBackend(), post, signal: j.abort.signal };
      const q = pickDeploySource(cfg, state);
      assertScope('deployment check', cfg.scope, q, state.dataKey);
      const float = state.float && (!cfg.scope || sameScope(state.float.scope, cfg.scope)) ? state.float : null;
      const { result, samples } = await runDeployCheck(ctx, q, await state.data(), cfg, bridge.simulate, float);
      final = { type: 'deploy-done', result, samples };
    } catch (e) {
      final = j.abort.signal.aborted ? { type: 'deploy-cancelled' } : { type: 'deploy-error', message: errorText(e) };
    } finally {
      simAnswer = null;
      job = null;
    }
    post(final);
  };

  /** Precision analysis (or its int16 check): analysis-done / -int16-done / -cancelled / -error end it, after the job is cleared. */
  const runAnalysisRequest = async (j: Job, req: Extract<TrainRequest, { type: 'analyze' | 'analysis-int16' }>) => {
    let final: WorkerMessage;
    try {
      const ctx: JobContext = { be: await currentBackend(), post, signal: j.abort.signal };
      final = req.type === 'analyze'
        ? { type: 'analysis-done', result: await runAnalysisJob(ctx, state, await state.data(), req.config) }
        : { type: 'analysis-int16-done', result: await runInt16Job(ctx, state, await state.data(), req.config) };
    } catch (e) {
      final = j.abort.signal.aborted ? { type: 'analysis-cancelled' } : { type: 'analysis-error', message: errorText(e) };
    } finally {
      job = null;
    }
    post(final);
  };

  const newJob = (): Job | null => {
    if (job) return null;
    job = { abort: new AbortController(), paused: false, step: 0, wake: null };
    return job;
  };

  const needFloat = () => {
    if (!state.float) throw new Error('no trained float model: train the float model first');
    return state.float;
  };

  return (req) => {
    switch (req.type) {
      case 'set-data':
        if (job) {
          post({ type: 'error', message: 'cannot change the data while a job runs' });
          return;
        }
        state.setData(req.data, req.prep);
        void state.data().then(
          (d) => post({ type: 'data-ready', name: d.train.name, trainImages: d.train.count, testImages: d.test.count,
            shape: [d.train.channels, d.train.height, d.train.width], numClasses: d.train.numClasses }),
          (e) => post({ type: 'error', message: `could not load the data: ${errorText(e)}` }),
        );
        return;
      case 'set-model':
        if (job) post({ type: 'error', message: 'cannot change the model while a job runs' });
        else state.setModel(req.model);
        return;
      case 'restore':
        try {
          state.restore(req.float, req.calib, req.qat, req.scope);
        } catch (e) {
          post({ type: 'error', message: `could not restore the project's checkpoints: ${errorText(e)}` });
        }
        return;
      case 'calibrate': {
        const j = newJob();
        if (!j) return void post({ type: 'quant-error', stage: 'calib', message: 'another job is running' });
        void runQuant('calib', j, async (ctx) => {
          const float = needFloat();
          assertScope('calibration', req.config.scope, float, state.dataKey);
          state.calib = await runCalibration(ctx, float, await state.data(), req.config);
          state.qat = null;
        });
        return;
      }
      case 'qat': {
        const j = newJob();
        if (!j) return void post({ type: 'quant-error', stage: 'qat', message: 'another job is running' });
        void runQuant('qat', j, async (ctx) => {
          const float = needFloat();
          assertScope('QAT', req.config.scope, float, state.dataKey);
          state.qat = await runQat(ctx, float, state.calib, await state.data(), req.config);
        });
        return;
      }
      case 'import-torch': {
        const j = newJob();
        if (!j) return void post({ type: 'quant-error', stage: 'qat', message: 'another job is running' });
        void runQuant('qat', j, async (ctx) => {
          state.qat = await runImportTorch(ctx, needFloat(), await state.data(), req.files, req.testImages);
        });
        return;
      }
      case 'deploy-check': {
        const j = newJob();
        if (!j) return void post({ type: 'deploy-error', message: 'another job is running' });
        void runDeploy(j, req.config);
        return;
      }
      case 'analyze':
      case 'analysis-int16': {
        const j = newJob();
        if (!j) return void post({ type: 'analysis-error', message: 'another job is running' });
        void runAnalysisRequest(j, req);
        return;
      }
      case 'deploy-sim-result':
      case 'deploy-sim-error':
        simAnswer?.(req);
        return;
      case 'init':
        if (job) post({ type: 'error', message: 'cannot change the backend while training' });
        else void init(req.prefer).catch(() => {});
        return;
      case 'start': {
        if (job) {
          post({ type: 'error', message: 'a training run is already in progress' });
          return;
        }
        const j: Job = { abort: new AbortController(), paused: false, step: 0, wake: null };
        job = j;
        void run(req.config, j);
        return;
      }
      case 'pause':
        if (job) job.paused = true;
        return;
      case 'resume':
        if (job) {
          job.paused = false;
          job.wake?.();
        }
        return;
      case 'cancel':
        if (job) {
          job.abort.abort();
          job.wake?.();
        }
        return;
    }
  };
}

// Bind to the worker global when this module runs as a dedicated worker.
if (typeof WorkerGlobalScope !== 'undefined' && typeof self !== 'undefined' && self instanceof WorkerGlobalScope) {
  const scope = self as unknown as DedicatedWorkerGlobalScope;
  reportUnhandledRejections(scope);
  const handle = createTrainingHost({ post: (m) => scope.postMessage(m) });
  scope.onmessage = (ev: MessageEvent<unknown>) => {
    if (isTrainRequest(ev.data)) handle(ev.data);
  };
}
