/**
 * Stage `qat`: quantization-aware fine-tuning from DIR/calib-checkpoint (or, without one, from the
 * float checkpoint, with ranges initialised on the first batch). Fake quant on in train mode (QAT
 * state), evaluated in VALIDATION state after each epoch; writes DIR/qat-checkpoint and merges
 * {"qat": {...}} into DIR/report.json. Typical recipe: SGD, lr 1e-4, 1/10 of the float epochs.
 * --distill: the float model (DIR/float-checkpoint, or the --onnx file's weights) teaches the fake-quant model
 * (src/train/distill.ts); no labels needed, and on labelled data the cross-entropy is added. Each epoch then also
 * measures the output similarity to the float model on the test split (report: similarity, similarity_before).
 */
import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { createNodeBackend } from '../../engine/create-node-backend.ts';
import { encodeQuantCheckpoint } from '../../quant/quant-checkpoint.ts';
import { train, type EpochResult } from '../../train/trainer.ts';
import type { Normalization } from '../../data/loader.ts';
import { loadStageData } from '../data.ts';
import { checkModelFitsData, dataShapeOf } from '../model-source.ts';
import { progressPrinter } from '../progress.ts';
import { mergeReport } from '../report.ts';
import { buildQuantized, loadFusedFloat, loadQuantCheckpoint, makeQConfig, parseQuant, stageNormalization } from './quant-common.ts';
import { DISTILL_OPTIONS, parseDistill } from '../distill-options.ts';
import { ParamStore } from '../../nn/params.ts';
import { checkDistill, distillStepFn } from '../../train/distill.ts';
import { outputSimilarity, similarityForReport, similarityText, type ModelRun, type OutputSimilarity } from '../../quant/output-similarity.ts';

const fmt = (x: number) => x.toFixed(2);

export async function runQat(argv: string[]): Promise<void> {
  const o = parseQuant(argv, 'default_qat', DISTILL_OPTIONS);
  const data = await loadStageData(o.data, o.subset, o.testSubset, o.resize, o.unlabelled);
  const shape = dataShapeOf(data);
  const labelled = data.train.labels !== null;
  const distill = parseDistill(o.rest, labelled);
  const calib = await loadQuantCheckpoint(o.modelPath, 'calib');
  // From a calib checkpoint: its march, and its weight width unless --weight-bits says otherwise.
  const keepWeights = calib && o.rest['weight-bits'] === undefined ? { weight: calib.qconfig.weight } : {};
  const qc = { ...makeQConfig(o), ...(calib ? { march: calib.qconfig.march, ...keepWeights } : {}) };
  const be = await createNodeBackend(o.backend, o.gpu);
  console.log(`Backend: ${be.kind} on ${be.adapter}`);
  let qm;
  let normalization: Normalization, modelName: string;
  if (calib) {
    console.log(`QAT from ${join(o.modelPath, 'calib-checkpoint')} (qconfig ${qc.template}, march ${qc.march})`);
    checkModelFitsData(calib.graph, shape, join(o.modelPath, 'calib-checkpoint'));
    qm = buildQuantized(be, calib.graph, calib.params, qc, calib.qsites);
    // The normalization calibration used, unless the options (--onnx, --input-*) say otherwise.
    normalization = o.onnx || o.preprocessing ? await stageNormalization(o, shape) : (calib.meta.normalization as Normalization | undefined) ?? 'pixel/255';
    modelName = calib.model;
  } else {
    console.log('No calib-checkpoint: QAT from the float checkpoint, activation ranges start from the first batch');
    const f = await loadFusedFloat(o, shape);
    qm = buildQuantized(be, f.graph, f.host, qc);
    normalization = f.normalization;
    modelName = f.modelName;
  }
  // Distillation: the teacher is the float model on the same (fused) graph, without the fake-quant hooks.
  let teacher: ModelRun | null = null;
  let before: OutputSimilarity[] | null = null;
  const student: ModelRun = { graph: qm.plan.graph, store: qm.store, hooks: qm.hooks };
  const similarity = () => outputSimilarity(be, student, teacher!, data.test, { batchSize: o.batchSize, normalize: normalization });
  if (distill) {
    const f = await loadFusedFloat(o, shape);
    teacher = { graph: qm.plan.graph, store: new ParamStore(be, qm.plan.graph, f.host) };
    checkDistill({ ...distill, withLabels: labelled }, qm.plan.graph);
    console.log(`Distillation: ${distill.loss.toUpperCase()} on the output${distill.featureWeight > 0 ? ` + ${distill.featureWeight} x feature MSE at ${qm.plan.acts.length} quantized sites` : ''}` +
      `${labelled ? ' + cross-entropy with the labels' : ' (no labels)'}; teacher: the float model`);
    if (calib) {
      qm.setState('VALIDATION');
      before = await similarity();
      console.log(`Before QAT (calibrated): output similarity to the float model: ${similarityText(before)}`);
    }
  }
  qm.setState('QAT');
  const epochs: EpochResult[] = [];
  const result = await train(be, qm.plan.graph, qm.store, data.train, data.test, {
    epochs: o.epochs, batchSize: o.batchSize, seed: o.seed, schedule: o.schedule, normalize: normalization,
    optimizer: { name: o.optimizer, lr: o.lr, momentum: o.momentum, weightDecay: o.weightDecay },
  }, {
    hooks: qm.hooks,
    onProgress: progressPrinter('Qat'),
    ...(distill && teacher ? {
      step: distillStepFn(be, student, teacher, qm.plan.acts.map((a) => a.node), { ...distill, withLabels: labelled }),
      evaluateEpoch: async () => ({ similarity: await similarity() }),
    } : {}),
    onEpoch: (r) => {
      const acc = labelled ? `evaluation Acc@1 ${fmt(r.acc1)} Acc@5 ${fmt(r.acc5)}` : 'no labels: no accuracy';
      console.log(`Qat Epoch ${r.epoch}: ${acc}${r.similarity ? `; output similarity to the float model: ${similarityText(r.similarity)}` : ''}`);
      epochs.push(r);
    },
  });
  qm.setState('VALIDATION');
  await writeFile(join(o.modelPath, 'qat-checkpoint'), encodeQuantCheckpoint({
    model: modelName, stage: 'qat', graph: qm.plan.graph, qconfig: qc, params: await qm.store.toHost(), qsites: await qm.toHost(),
    meta: { epochs: o.epochs, normalization, ...(distill ? { distill } : {}) },
  }));
  const last = epochs[epochs.length - 1];
  await mergeReport(o.modelPath, 'qat', {
    acc1: last?.acc1 ?? NaN, acc5: last?.acc5 ?? NaN, epochs: o.epochs, train_images: result.trainImages,
    test_images: data.test.count, images_per_s: result.imagesPerSecond, seconds: result.seconds, backend: be.kind,
    adapter: be.adapter, observer: qc.activation.observer, qconfig: qc.template, march: qc.march, rounding: qc.rounding,
    scales: await qm.scales(), history: epochs.map((e) => ({ epoch: e.epoch, acc1: e.acc1, acc5: e.acc5, loss: e.loss, ...(e.similarity ? { similarity: similarityForReport(e.similarity) } : {}) })),
    labelled,
    ...(distill ? {
      distill: { loss: distill.loss, feature_weight: distill.featureWeight, with_labels: labelled },
      similarity: last?.similarity ? similarityForReport(last.similarity) : null,
      similarity_before: before ? similarityForReport(before) : null,
    } : {}),
  });
  teacher?.store.dispose();
  qm.store.dispose();
  qm.dispose();
  be.dispose();
}
