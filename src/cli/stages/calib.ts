/**
 * Stage `calib`: post-training calibration of the float checkpoint. Fuses the model, prepares it
 * with the qconfig (default_calibration: MSE activations, min-max per-channel weights), runs the
 * observers on --calib-images training images, evaluates the fake-quant model (VALIDATION state),
 * writes DIR/calib-checkpoint and merges {"calib": {...}} into DIR/report.json.
 */
import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { createNodeBackend } from '../../engine/create-node-backend.ts';
import { randomSubset } from '../../data/dataset.ts';
import { calibrate } from '../../quant/calibrate.ts';
import { encodeQuantCheckpoint } from '../../quant/quant-checkpoint.ts';
import { evaluate } from '../../train/evaluate.ts';
import { loadStageData } from '../data.ts';
import { dataShapeOf } from '../model-source.ts';
import { mergeReport } from '../report.ts';
import { buildQuantized, loadFusedFloat, makeQConfig, parseQuant } from './quant-common.ts';

const fmt = (x: number) => x.toFixed(2);

export async function runCalib(argv: string[]): Promise<void> {
  const o = parseQuant(argv, 'default_calibration');
  const data = await loadStageData(o.data, o.subset, o.testSubset, o.resize);
  const { graph, host, normalization, modelName } = await loadFusedFloat(o, dataShapeOf(data));
  const qc = makeQConfig(o);
  const be = await createNodeBackend(o.backend, o.gpu);
  console.log(`Backend: ${be.kind} on ${be.adapter}`);
  const qm = buildQuantized(be, graph, host, qc);
  console.log(`Calibrating ${graph.name} (${qm.plan.acts.length} activation and ${qm.plan.weights.length} weight sites, ` +
    `qconfig ${qc.template}, observer ${qc.activation.observer}, march ${qc.march}) on ${Math.min(o.calibImages, data.train.count)} images`);
  // Calibration images: the first N of a seed-1 permutation of the training images (not the --subset order).
  const calibDs = randomSubset(data.train, Math.min(o.calibImages, data.train.count), 1);
  const cal = await calibrate(qm, calibDs, {
    batchSize: o.batchSize, normalize: normalization,
    onProgress: (p) => process.stderr.write(`Calibration [${p.imagesDone}/${p.totalImages} images]\n`),
  });
  const ev = await evaluate(be, graph, qm.store, data.test, { hooks: qm.hooks, normalize: normalization });
  console.log(`Calibration: evaluation Acc@1 ${fmt(ev.acc1)} Acc@5 ${fmt(ev.acc5)}`);
  const scales = await qm.scales();
  await writeFile(join(o.modelPath, 'calib-checkpoint'), encodeQuantCheckpoint({
    model: modelName, stage: 'calib', graph, qconfig: qc, params: await qm.store.toHost(), qsites: await qm.toHost(),
    meta: { calibImages: cal.images, normalization },
  }));
  await mergeReport(o.modelPath, 'calib', {
    acc1: ev.acc1, acc5: ev.acc5, epochs: 0, train_images: cal.images, test_images: ev.images,
    images_per_s: cal.imagesPerSecond, seconds: cal.seconds, backend: be.kind, adapter: be.adapter,
    observer: qc.activation.observer, qconfig: qc.template, march: qc.march, rounding: qc.rounding, scales, model: modelName, normalization,
  });
  qm.store.dispose();
  qm.dispose();
  be.dispose();
}
