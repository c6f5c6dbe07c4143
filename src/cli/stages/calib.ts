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
import { mergeReport } from '../report.ts';
import { buildQuantized, loadFusedFloat, makeQConfig, parseQuant } from './quant-common.ts';
import { int16TopSites, parseInt16Top } from '../int16-top.ts';
import { withInt16Sites } from '../../quant/analysis/int16-sites.ts';

const fmt = (x: number) => x.toFixed(2);

export async function runCalib(argv: string[]): Promise<void> {
  const o = parseQuant(argv, 'default_calibration', { 'int16-top': { type: 'string' } });
  const int16Top = parseInt16Top(o.rest['int16-top'] as string | undefined);
  const { graph, host, normalization, modelName } = await loadFusedFloat(o);
  const int16 = int16Top === null ? [] : await int16TopSites(o.modelPath, modelName, int16Top);
  const data = await loadStageData(o.data, o.subset, o.testSubset);
  const qc = withInt16Sites(makeQConfig(o), int16);
  if (int16.length) console.log(`int16 for the top ${int16.length} sites of the sensitivity ranking: ${int16.map((s) => `${s.site} (${s.kind})`).join(', ')}`);
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
    observer: qc.activation.observer, qconfig: qc.template, int16_sites: int16, march: qc.march, rounding: qc.rounding, scales, model: modelName, normalization,
  });
  qm.store.dispose();
  qm.dispose();
  be.dispose();
}
