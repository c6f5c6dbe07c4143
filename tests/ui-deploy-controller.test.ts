/**
 * The deployment check through the real protocol, in Node: the training worker host (CPU backend, toy data) behind
 * the TrainingClient, the simulator host behind SimClient (both in-process, asynchronous like workers), the deploy
 * controller relaying the simulator batches, the studio store. A check fills the slice (agreement, layers worst
 * first, artifacts: a QSIM model file, ONNX bytes, perf per march) and the graph overlays; a cancel mid-check ends
 * it; nothing to deploy is refused with a clear message; new checkpoints clear the results.
 */
import { unzipSync } from 'fflate';
import { describe, expect, it, vi } from 'vitest';
import { summarize } from '../src/data/summary.ts';
import { MARCHES } from '../src/quant/march.ts';
import { spawnInProcessSim } from '../src/sim/in-process.ts';
import { MODEL_FILE_MAGIC } from '../src/sim/model-file.ts';
import { TrainingClient, type WorkerLike } from '../src/train/client.ts';
import type { TrainRequest, WorkerMessage } from '../src/train/protocol.ts';
import type { CalibJobConfig } from '../src/train/quant-protocol.ts';
import { createDeployController, deployBlocker } from '../src/ui/features/deploy/deploy-controller.ts';
import { createStudioStore } from '../src/ui/store/studio-store.ts';
import { createScopeController } from '../src/ui/scope/scope-controller.ts';
import { currentScope, toResultScope } from '../src/ui/scope/identity.ts';
import { inProcessTrainingWorker, toyData, TOY_FLOAT } from './helpers/in-process-training.ts';

const CALIB: CalibJobConfig = { quant: { march: 'bayes', template: 'default_calibration', observer: 'minmax', overrides: [], quantStubScale: null }, batches: 1, batchSize: 32, testImages: 16 };

async function setup() {
  const store = createStudioStore();
  const client = new TrainingClient(inProcessTrainingWorker, { prefer: 'cpu' });
  const msgs: WorkerMessage[] = [];
  client.subscribe((m) => {
    msgs.push(m);
    if (m.type === 'checkpoint') store.getState().setCheckpoint(m.stage, m.bytes);
  });
  const until = (type: WorkerMessage['type']) => new Promise<WorkerMessage>((resolve) => {
    const off = client.subscribe((m) => { if (m.type === type) { off(); resolve(m); } });
  });
  createScopeController(store, client);
  store.getState().dataLoaded(summarize(toyData(), 'builtin', 'toy'), null);
  const ctl = createDeployController(store, client, spawnInProcessSim, () => {});
  return { store, client, ctl, msgs, until, st: () => store.getState() };
}

describe('deploy controller with the training and simulator hosts', () => {
  it('refuses without a quantized model, runs the check, cancels one, and clears on new checkpoints', async () => {
    const h = await setup();
    expect(deployBlocker(h.st())).toMatch(/Calibrate or run QAT first/);
    expect(h.ctl.start()).toBe(false);

    // Jobs name the model and data on screen, as the page's controllers send them.
    const scope = toResultScope(currentScope(h.st())!);
    let done = h.until('done');
    h.client.start({ ...TOY_FLOAT, scope });
    await done;
    done = h.until('quant-done');
    h.client.calibrate({ ...CALIB, scope });
    await done;
    expect(h.st().checkpoints.calib).toBeDefined();
    expect(deployBlocker(h.st())).toBeNull();

    // A full check on 40 test images in batches of 16 (3 simulator round trips).
    h.st().setDeploySetting('images', 40);
    h.st().setDeploySetting('batchSize', 16);
    done = h.until('deploy-done');
    expect(h.ctl.start()).toBe(true);
    expect(h.client.job).toBe('deploy');
    await done;
    const d = h.st().deploy;
    expect(d.job).toMatchObject({ status: 'idle', outcome: 'done', images: 40, totalImages: 40, simImages: 40 });
    expect(h.msgs.filter((m) => m.type === 'deploy-sim-request')).toHaveLength(3);
    expect(h.msgs.filter((m) => m.type === 'deploy-progress').map((m) => (m as { images: number }).images)).toEqual([16, 32, 40]);
    const a = d.artifacts!;
    expect(a).toMatchObject({ source: 'calib', model: 'cnn-small', march: 'bayes', onnxError: null, totalImages: 40 });
    expect(new TextDecoder().decode(a.modelFile.subarray(0, 4))).toBe(MODEL_FILE_MAGIC);
    expect(a.onnx!.length).toBeGreaterThan(100);
    // the PyTorch package, zipped under one folder: model.py, weights, every scale, the torchrun script
    expect(a.torchError).toBeNull();
    const zip = unzipSync(a.torchZip!);
    expect(Object.keys(zip).sort()).toEqual(['model.py', 'qparams.json', 'studio-graph.json', 'studio_quant.py', 'torchrun_compat.py', 'train_qat.py', 'weights.safetensors']
      .map((f) => `cnn-small-calib-torch/${f}`));
    expect(new TextDecoder().decode(zip['cnn-small-calib-torch/model.py'])).toMatch(/def build\(qat: bool = False\) -> torch\.nn\.Module:/);
    expect(a.perf.map((p) => p.march)).toEqual(['bayes', ...MARCHES.filter((m) => m !== 'bayes')]);
    expect(a.perf[0].totals.macs_int8xint8).toBeGreaterThan(0);
    const r = d.result!;
    expect(r.images).toBe(40);
    expect(r.agreement_top1).toBeGreaterThanOrEqual(90);
    expect(r.layers.length).toBe(a.sites);
    for (let i = 1; i < r.layers.length; i++) expect(r.layers[i - 1].sqnr_db).toBeLessThanOrEqual(r.layers[i].sqnr_db);
    expect(Object.keys(h.st().graphView.overlays.sqnr ?? {}).sort()).toEqual(r.layers.map((l) => l.name).sort());
    // Per image: the simulator's confusion matrix holds every image, its diagonal is the simulator's accuracy that
    // deployCheck measured on its own; the float model (same model and data) ran on the same images.
    const p = h.st().deploy.samples!;
    const total = (m: number[][]) => m.flat().reduce((a, b) => a + b, 0);
    expect(total(p.confusionInt)).toBe(40);
    expect((100 * p.confusionInt.reduce((a, row, i) => a + row[i], 0)) / 40).toBeCloseTo(r.int.acc1, 6);
    expect(total(p.confusionFloat!)).toBe(40);
    expect(p.disagree.length).toBe(Math.min(p.disagreeCount, 48));
    expect(p.pixels.length).toBe(p.disagree.length * 784);

    // Cancel at the first simulator batch: the simulator is terminated, the worker answers deploy-cancelled.
    h.st().setDeploySetting('images', 48);
    const off = h.client.subscribe((m) => { if (m.type === 'deploy-sim-request') { off(); h.ctl.cancel(); } });
    done = h.until('deploy-cancelled');
    expect(h.ctl.start()).toBe(true);
    expect(h.st().graphView.overlays).toEqual({});
    await done;
    expect(h.st().deploy.job).toMatchObject({ status: 'idle', outcome: 'cancelled' });
    expect(h.st().deploy.artifacts).not.toBeNull();
    expect(h.client.job).toBeNull();

    // QAT only when there is one.
    h.st().setDeploySetting('source', 'qat');
    expect(deployBlocker(h.st())).toMatch(/Run QAT first/);
    h.st().setDeploySetting('source', 'auto');

    // A new calibration: the old artifacts go.
    done = h.until('quant-done');
    h.client.calibrate({ ...CALIB, scope });
    await done;
    expect(h.st().deploy.artifacts).toBeNull();
    h.ctl.dispose();
    h.client.dispose();
  }, 120_000);
});

describe('training client: the deploy job', () => {
  class FakeWorker implements WorkerLike {
    sent: TrainRequest[] = [];
    onmessage: ((ev: { data: unknown }) => void) | null = null;
    onerror: ((ev: { message?: string }) => void) | null = null;
    terminated = false;
    postMessage(m: TrainRequest) { this.sent.push(m); }
    terminate() { this.terminated = true; }
  }
  const CFG = { source: 'auto', split: 'test', images: 8, batchSize: 8 } as const;
  const reply = { type: 'deploy-sim-error', batch: 1, message: 'x' } as const;

  it('relays simulator answers only while the check runs; an unanswered cancel ends it with deploy-cancelled', () => {
    vi.useFakeTimers();
    const ws: FakeWorker[] = [];
    const c = new TrainingClient(() => { const w = new FakeWorker(); ws.push(w); return w; }, { cancelTimeoutMs: 100 });
    const got: WorkerMessage[] = [];
    c.subscribe((m) => got.push(m));
    c.deploySim(reply); // no job: dropped
    c.deployCheck(CFG);
    expect(c.job).toBe('deploy');
    expect(() => c.calibrate(CALIB)).toThrow(/another job/);
    c.deploySim(reply);
    expect(ws[0].sent.map((m) => m.type)).toEqual(['init', 'deploy-check', 'deploy-sim-error']);
    c.cancel();
    vi.advanceTimersByTime(150);
    expect(got).toEqual([{ type: 'deploy-cancelled' }]);
    expect(ws[0].terminated).toBe(true);
    expect(c.job).toBeNull();
    // A crashed worker ends the check with deploy-error.
    c.deployCheck(CFG);
    ws[1].onerror?.({ message: 'boom' });
    expect(got.at(-1)).toMatchObject({ type: 'deploy-error', message: expect.stringMatching(/boom/) });
    vi.useRealTimers();
  });
});
