/**
 * Stage `float`: train a zoo model (or an imported ONNX model, --onnx FILE) in float32 on the chosen
 * backend, print per-epoch accuracy, write DIR/float-checkpoint and merge {"float": {...}} into
 * DIR/report.json. A checkpoint is written after every epoch, so `--resume` (or a lost GPU device)
 * continues from the last one. `--epochs 0` evaluates the model as it is (e.g. an imported model).
 */
import { mkdir, readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import type { Backend } from '../../engine/backend.ts';
import { createNodeBackend } from '../../engine/create-node-backend.ts';
import { ParamStore, type HostParams } from '../../nn/params.ts';
import { decodeCheckpoint, encodeCheckpoint } from '../../io/checkpoint.ts';
import { train, type EpochResult } from '../../train/trainer.ts';
import { evaluate } from '../../train/evaluate.ts';
import { loadStageData } from '../data.ts';
import { checkCheckpointData, checkpointDataMeta, dataShapeOf, describeImport, loadModelSource } from '../model-source.ts';
import { parseCommon } from '../options.ts';
import { progressPrinter } from '../progress.ts';
import { mergeReport } from '../report.ts';

const fmt = (x: number) => x.toFixed(2);

export async function runFloat(argv: string[]): Promise<void> {
  const o = parseCommon(argv);
  const data = await loadStageData(o.data, o.subset, o.testSubset, o.resize, o.unlabelled);
  const shape = dataShapeOf(data);
  const src = await loadModelSource(o, shape);
  const { graph, normalization, modelName } = src;
  if (src.onnx) console.log(describeImport(src.onnx, o.onnx!));
  const ckptFile = join(o.modelPath, 'float-checkpoint');
  await mkdir(o.modelPath, { recursive: true });

  let host: HostParams = src.host;
  let startEpoch = 0;
  if (o.resume) {
    const c = decodeCheckpoint(new Uint8Array(await readFile(ckptFile)), ckptFile);
    if (c.model !== modelName) throw new Error(`${ckptFile}: checkpoint is of model ${c.model}, not ${modelName}`);
    checkCheckpointData(c.meta, shape, ckptFile);
    host = c.params;
    startEpoch = Number(c.meta.epochsDone ?? 0);
    console.log(`Resuming from ${ckptFile} after epoch ${startEpoch}`);
  }
  const shapes = Object.fromEntries(graph.params.map((p) => [p.name, p.shape]));
  const save = async (params: HostParams, epochsDone: number) => {
    const bytes = encodeCheckpoint({ model: modelName, stage: 'float', meta: { epochsDone, seed: o.seed, normalization, ...checkpointDataMeta(shape) }, params, shapes });
    await writeFile(ckptFile, bytes);
  };

  let be: Backend = await createNodeBackend(o.backend, o.gpu);
  console.log(`Backend: ${be.kind} on ${be.adapter}`);
  console.log(`Model ${graph.name}: ${graph.params.filter((p) => p.kind === 'param').reduce((s, p) => s + p.shape.reduce((a, b) => a * b, 1), 0)} parameters; ` +
    `train ${data.train.count} images, test ${data.test.count} images (${data.source})`);
  const epochs: EpochResult[] = [];
  let seconds = 0, imagesPerSecond = 0, trainImages = data.train.count;
  let recovered = false;
  for (;;) {
    const store = new ParamStore(be, graph, host);
    try {
      const result = await train(be, graph, store, data.train, data.test, {
        epochs: o.epochs, batchSize: o.batchSize, seed: o.seed, startEpoch,
        optimizer: { name: o.optimizer, lr: o.lr, momentum: o.momentum, weightDecay: o.weightDecay },
        schedule: o.schedule, augment: o.augment ? { cropPadding: 2, flip: true } : undefined, normalize: normalization,
      }, {
        onProgress: progressPrinter('Float'),
        onEpoch: async (r) => {
          console.log(`Float Epoch ${r.epoch}: evaluation Acc@1 ${fmt(r.acc1)} Acc@5 ${fmt(r.acc5)}`);
          epochs.push(r);
          host = await store.toHost();
          startEpoch = r.epoch;
          await save(host, r.epoch);
        },
      });
      seconds += result.seconds;
      imagesPerSecond = result.imagesPerSecond;
      trainImages = result.trainImages;
      if (o.epochs === 0 || startEpoch === 0) {
        // No training happened (e.g. --epochs 0): evaluate the initial or loaded weights.
        const ev = await evaluate(be, graph, store, data.test, { normalize: normalization });
        console.log(`Float Epoch 0: evaluation Acc@1 ${fmt(ev.acc1)} Acc@5 ${fmt(ev.acc5)}`);
        epochs.push({ ...ev, epoch: 0, loss: NaN });
        await save(await store.toHost(), 0);
      }
      store.dispose();
      break;
    } catch (e) {
      const lost = be.kind === 'webgpu' && /device lost/i.test((e as Error).message);
      if (!lost || recovered) throw e;
      // The device was lost: re-create the engine and resume from the last checkpoint.
      recovered = true;
      console.error(`WebGPU device lost (${(e as Error).message}); re-creating the engine and resuming after epoch ${startEpoch}`);
      be = await createNodeBackend(o.backend, o.gpu);
    }
  }
  const last = epochs[epochs.length - 1];
  await mergeReport(o.modelPath, 'float', {
    acc1: last.acc1, acc5: last.acc5, epochs: o.epochs, train_images: trainImages, test_images: data.test.count,
    images_per_s: imagesPerSecond, seconds, backend: be.kind, adapter: be.adapter, model: modelName,
    ...(src.onnx ? { onnx: { file: o.onnx, opset: src.onnx.opset, producer: src.onnx.producer, input_shape: src.onnx.inputShape } } : {}),
    normalization,
    history: epochs.map((e) => ({ epoch: e.epoch, acc1: e.acc1, acc5: e.acc5, loss: e.loss })),
  });
  be.dispose();
}
