/**
 * The page's route back from PyTorch: the Quantize panel's "Import PyTorch QAT" (quant controller importTorch) sends
 * the files train_qat.py writes to the training worker, which checks they are of the kept float model, evaluates the
 * result and keeps it as the QAT model (checkpoint + quant-done, so the deployment check takes it). Checked with the
 * export of the worker's own calibration (the same files format train_qat.py writes): the imported QAT model is the
 * calibrated one, parameter for parameter and scale for scale, with the same accuracy.
 */
import { describe, expect, it } from 'vitest';
import { summarize } from '../src/data/summary.ts';
import { buildTorchPackage } from '../src/io/torch/export-package.ts';
import { decodeQuantCheckpoint } from '../src/quant/quant-checkpoint.ts';
import { TrainingClient, type WorkerLike } from '../src/train/client.ts';
import type { WorkerMessage } from '../src/train/protocol.ts';
import type { CalibJobConfig } from '../src/train/quant-protocol.ts';
import { createQuantController } from '../src/ui/features/quant/quant-controller.ts';
import { createTrainingController } from '../src/ui/features/train/training-controller.ts';
import { createScopeController } from '../src/ui/scope/scope-controller.ts';
import { createStudioStore } from '../src/ui/store/studio-store.ts';
import { inProcessTrainingWorker, toyData, TOY_FLOAT } from './helpers/in-process-training.ts';

const CALIB: CalibJobConfig = { quant: { march: 'bernoulli', template: 'default_calibration', observer: 'minmax', overrides: [], quantStubScale: null }, batches: 1, batchSize: 32, testImages: 16 };

describe('page: import a PyTorch QAT result', () => {
  it('becomes the QAT model of the same graph (same parameters, scales and accuracy); wrong files are refused', async () => {
    const store = createStudioStore();
    const st = () => store.getState();
    const client = new TrainingClient(inProcessTrainingWorker, { prefer: 'cpu' });
    const msgs: WorkerMessage[] = [];
    client.subscribe((m) => msgs.push(m));
    const until = (type: WorkerMessage['type']) => new Promise<WorkerMessage>((resolve) => {
      const off = client.subscribe((m) => { if (m.type === type) { off(); resolve(m); } });
    });
    st().dataLoaded(summarize(toyData(), 'builtin', 'toy'), null);
    const ctl = createQuantController(store, client, () => {});
    // The page's controllers: checkpoints land in the store, tied to the model and data on screen.
    createTrainingController(store, client);
    createScopeController(store, client);

    let done = until('done');
    client.start(TOY_FLOAT);
    await done;
    done = until('quant-done');
    client.calibrate(CALIB);
    const calibDone = await done as Extract<WorkerMessage, { type: 'quant-done' }>;
    const calib = decodeQuantCheckpoint(st().checkpoints.calib!, 'calib');
    const pkg = buildTorchPackage(calib, 'pixel/255');
    const file = (name: string, bytes = pkg.files[name]) => new File([bytes as Uint8Array<ArrayBuffer>], name);

    // a missing file: a clear error, nothing sent
    expect(await ctl.importTorch([file('weights.safetensors'), file('qparams.json')])).toBe(false);
    expect(st().quant.job).toMatchObject({ outcome: 'error', stage: 'qat' });
    expect(st().quant.job.error).toMatch(/studio-graph\.json missing/);

    // another model's result: refused by the worker, the kept models unchanged
    const other = (name: string) => file(name, new TextEncoder().encode(new TextDecoder().decode(pkg.files[name]).replace(/"model":"cnn-small"|"model": "cnn-small"/, '"model": "mlp"')));
    done = until('quant-error');
    expect(await ctl.importTorch([file('weights.safetensors'), other('qparams.json'), other('studio-graph.json')])).toBe(true);
    expect(((await done) as { message: string }).message).toMatch(/qparams\.json: a QAT result of model mlp; the studio's model is cnn-small/);
    expect(st().checkpoints.qat).toBeUndefined();

    // the real files: the QAT model is the calibrated one
    st().setSetting('testImages', CALIB.testImages); // the same test images the calibration was evaluated on
    done = until('quant-done');
    expect(await ctl.importTorch([file('weights.safetensors'), file('qparams.json'), file('studio-graph.json')])).toBe(true);
    const qatDone = await done as Extract<WorkerMessage, { type: 'quant-done' }>;
    await new Promise((r) => setTimeout(r, 0));
    expect(qatDone.stage).toBe('qat');
    const qat = decodeQuantCheckpoint(st().checkpoints.qat!, 'qat');
    expect(qat.graph).toEqual(calib.graph);
    expect(qat.params).toEqual(calib.params);
    expect(qat.qsites).toEqual(calib.qsites);
    expect(qatDone.scales).toEqual(calibDone.scales);
    expect(qatDone.acc1).toBe(calibDone.acc1);
    expect(qatDone.acc5).toBe(calibDone.acc5);
    expect(st().quant.qat).toMatchObject({ acc1: qatDone.acc1 });
    ctl.dispose();
    client.dispose();
  }, 120_000);
});
