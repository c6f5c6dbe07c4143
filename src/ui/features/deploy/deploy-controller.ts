/**
 * The deployment check from the page's side. The training worker converts the kept QAT / calibrated model, makes
 * the model file, the ONNX export and the estimate, and runs the fake-quant side; for every batch it asks for the
 * simulator's output (deploy-sim-request), which this controller gets from the fixed-point simulator in its own
 * worker (SimClient: a queue, progress, a cancel that terminates the worker) and hands back (client.deploySim).
 * So the page only relays buffers: no model runs on the main thread. The result fills the deploy slice and the
 * graph's metric overlays. New checkpoints clear both. No React here.
 */
import type { TrainingClient } from '../../../train/client.ts';
import { errorText, type WorkerMessage } from '../../../train/protocol.ts';
import type { DeployJobConfig } from '../../../train/quant-protocol.ts';
import { SimClient, type SimWorkerLike } from '../../../sim/client.ts';
import { MODEL_FILE_EXTENSION } from '../../../sim/model-file.ts';
import { overlaysOf } from '../../store/deploy-slice.ts';
import { currentScope, toResultScope } from '../../scope/identity.ts';
import { stageBlocker } from '../stage-blockers.ts';
import { deployRunOf } from '../runs/record-run.ts';
import { METRICS } from '../../store/graph-slice.ts';
import type { StudioState, StudioStore } from '../../store/studio-store.ts';

export interface DeployController {
  /** Starts the check; false when it cannot start now (another job, nothing to deploy, invalid settings). */
  start(): boolean;
  cancel(): void;
  dispose(): void;
}

export function deployConfigOf(s: StudioState): DeployJobConfig {
  const d = s.deploy.settings;
  const scope = currentScope(s);
  return { source: d.source, split: d.split, images: d.images, batchSize: d.batchSize, ...(scope ? { scope: toResultScope(scope) } : {}) };
}

/** Why the check cannot run now (null when it can). */
export function deployBlocker(s: StudioState): string | null {
  return stageBlocker(s, 'deploy', { ...s.settings, model: '' });
}

export function createDeployController(store: StudioStore, client: TrainingClient, spawnSim: () => SimWorkerLike, beforeJob: () => void): DeployController {
  const st = () => store.getState();
  let sim: SimClient | null = null;
  let abort: AbortController | null = null;
  let loaded: Promise<unknown> = Promise.resolve();
  const simClient = () => (sim ??= new SimClient(spawnSim));

  const onSimRequest = async (m: Extract<WorkerMessage, { type: 'deploy-sim-request' }>, signal: AbortSignal) => {
    try {
      await loaded;
      const out = await simClient().run([{ x: m.x, n: m.n }], {
        dump: m.dump, signal,
        onProgress: (p) => st().deploySimProgress({ images: p.images, imagesPerSecond: p.imagesPerSecond }),
      });
      client.deploySim({
        type: 'deploy-sim-result', batch: m.batch, output: out.outputs[0], ...(out.allOutputs ? { outputs: out.allOutputs[0] } : {}), dumps: out.dumps?.[0] ?? {},
      });
    } catch (e) {
      // A cancel terminated the simulator: the worker's job is being cancelled too, nothing to answer.
      if (signal.aborted) return;
      client.deploySim({ type: 'deploy-sim-error', batch: m.batch, message: errorText(e) });
    }
  };

  const unsubscribe = client.subscribe((m) => {
    switch (m.type) {
      case 'deploy-started': {
        st().applyDeployMessage(m);
        const signal = abort?.signal;
        loaded = simClient().load(m.modelFile, { file: `${m.model}${MODEL_FILE_EXTENSION}`, signal });
        loaded.catch(() => {}); // reported through the first batch's answer
        return;
      }
      case 'deploy-sim-request':
        if (abort) void onSimRequest(m, abort.signal);
        else client.deploySim({ type: 'deploy-sim-error', batch: m.batch, message: 'no deployment check is running on this page' });
        return;
      case 'deploy-progress':
      case 'deploy-cancelled':
      case 'deploy-error':
        st().applyDeployMessage(m);
        if (m.type !== 'deploy-progress') abort = null;
        return;
      case 'deploy-done': {
        st().applyDeployMessage(m);
        abort = null;
        const rec = deployRunOf(st());
        if (rec) st().addRun(rec);
        const o = overlaysOf(m.result.layers);
        for (const metric of METRICS) st().setOverlay(metric, o[metric]);
        return;
      }
      case 'error':
        // A worker failure ends the client's job with a plain error: the check cannot go on.
        if (st().deploy.job.status !== 'idle' && client.job === null) {
          abort?.abort();
          abort = null;
          st().deployFailed(m.message);
        }
        return;
      default:
    }
  });

  // New calibration / QAT checkpoints (or a float model that dropped them): the old results no longer apply.
  // A scope switch swaps checkpoints and results together: those results stay.
  let ck = { calib: st().checkpoints.calib, qat: st().checkpoints.qat, scope: st().scope };
  const unwatch = store.subscribe((s) => {
    if (s.checkpoints.calib === ck.calib && s.checkpoints.qat === ck.qat && s.scope === ck.scope) return;
    const switched = s.scope !== ck.scope;
    ck = { calib: s.checkpoints.calib, qat: s.checkpoints.qat, scope: s.scope };
    if (switched) return;
    if (s.deploy.artifacts || s.deploy.result) {
      s.clearDeploy();
      s.clearOverlays();
    }
  });

  return {
    start() {
      const s = st();
      if (client.job !== null || s.deploy.job.status !== 'idle' || deployBlocker(s)) return false;
      s.beginDeploy();
      s.clearOverlays();
      abort = new AbortController();
      try {
        beforeJob();
        client.deployCheck(deployConfigOf(s));
      } catch (e) {
        abort = null;
        st().deployFailed(errorText(e));
        return false;
      }
      return true;
    },
    cancel() {
      if (st().deploy.job.status !== 'running') return;
      st().requestDeployCancel();
      abort?.abort(); // terminates the simulator worker in the middle of a batch
      client.cancel();
    },
    dispose() {
      unsubscribe();
      unwatch();
      abort?.abort();
      sim?.dispose();
      sim = null;
    },
  };
}
