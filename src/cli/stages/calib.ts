/**
 * Stage `calib`: post-training calibration of the float checkpoint. Fuses the model, prepares it
 * with the qconfig (default_calibration: MSE activations, min-max per-channel weights), runs the
 * observers on --calib-images training images, evaluates the fake-quant model (VALIDATION state),
 * writes DIR/calib-checkpoint and merges {"calib": {...}} into DIR/report.json.
 */
import { mkdir, writeFile } from 'node:fs/promises';
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
import { int16TopSites, parseInt16Top } from '../int16-top.ts';
import { withInt16Sites } from '../../quant/analysis/int16-sites.ts';
import { firstN } from '../../data/dataset.ts';
import { adaround, type AdaRoundReport } from '../../quant/ptq/adaround.ts';
import { AUTO_CALIB_CRITERION_LABELS, autoCalibrate, type AutoCalibReport } from '../../quant/ptq/auto-calib.ts';
import { parsePtq, PTQ_OPTIONS } from '../ptq-options.ts';
import { ParamStore } from '../../nn/params.ts';
import { outputSimilarity, similarityForReport, similarityText, type OutputSimilarity } from '../../quant/output-similarity.ts';

const fmt = (x: number) => x.toFixed(2);

export async function runCalib(argv: string[]): Promise<void> {
  const o = parseQuant(argv, 'default_calibration', { ...PTQ_OPTIONS, 'int16-top': { type: 'string' } });
  const int16Top = parseInt16Top(o.rest['int16-top'] as string | undefined);
  const ptq = parsePtq(o.rest, o.batchSize);
  const data = await loadStageData(o.data, o.subset, o.testSubset, o.resize, o.unlabelled);
  const { graph, host, normalization, modelName } = await loadFusedFloat(o, dataShapeOf(data));
  const int16 = int16Top === null ? [] : await int16TopSites(o.modelPath, modelName, int16Top);
  const qc = withInt16Sites(makeQConfig(o), int16);
  if (int16.length) console.log(`int16 for the top ${int16.length} sites of the sensitivity ranking: ${int16.map((s) => `${s.site} (${s.kind})`).join(', ')}`);
  const be = await createNodeBackend(o.backend, o.gpu);
  console.log(`Backend: ${be.kind} on ${be.adapter}`);
  const qm = buildQuantized(be, graph, host, qc);
  console.log(`Calibrating ${graph.name} (${qm.plan.acts.length} activation and ${qm.plan.weights.length} weight sites, ` +
    `qconfig ${qc.template}, observer ${qc.activation.observer}, ${qc.weight.dtype} weights, march ${qc.march}) on ${Math.min(o.calibImages, data.train.count)} images`);
  // Calibration images: the first N of a seed-1 permutation of the training images (not the --subset order).
  const calibDs = randomSubset(data.train, Math.min(o.calibImages, data.train.count), 1);
  const cal = await calibrate(qm, calibDs, {
    batchSize: o.batchSize, normalize: normalization,
    onProgress: (p) => process.stderr.write(`Calibration [${p.imagesDone}/${p.totalImages} images]\n`),
  });
  let autoCalib: AutoCalibReport | null = null;
  if (ptq.autoCalib) {
    // Fewer images than the calibration's: the search (observers and distance) on the first N of them; more: the
    // observers see the calibration images, the distance is measured on them and the next training images of the
    // same permutation (held out from the observers).
    const n = ptq.autoCalib.images ?? calibDs.count;
    const ds = n <= calibDs.count ? firstN(calibDs, n) : randomSubset(data.train, Math.min(n, data.train.count), 1);
    const observeImages = Math.min(ds.count, calibDs.count);
    const { criterion, gate } = ptq.autoCalib;
    console.log(`Automatic calibration: ${qm.plan.acts.length} sites, candidates ${ptq.autoCalib.candidates.join(', ')}, criterion ${criterion} (${AUTO_CALIB_CRITERION_LABELS[criterion]}), ` +
      `scored on ${ds.count} images (observers on ${observeImages}), gate ${gate}`);
    autoCalib = await autoCalibrate(qm, ds, { candidates: ptq.autoCalib.candidates, batchSize: o.batchSize, criterion, observeImages, gate }, {
      normalize: normalization,
      onProgress: (p) => process.stderr.write(`Automatic calibration [site ${p.site}/${p.sites} ${p.node}: ${p.candidate}]\n`),
    });
    const crit = AUTO_CALIB_CRITERION_LABELS[criterion];
    console.log(`  the whole model with one observer, ${crit}: ${autoCalib.uniform.map((u) => `${u.observer} ${u.distance.toPrecision(5)}`).join(', ')}; start from ${autoCalib.start}`);
    for (const c of autoCalib.choices) {
      console.log(`  ${c.site}: ${c.observer}${c.changed ? ' (changed)' : c.gated ? ' (kept by the gate)' : ''} (scale ${c.scale.toPrecision(5)}` +
        `${c.candidates.length ? `; ${crit} ${c.candidates.map((t) => `${t.observer} ${t.distance.toPrecision(5)} z ${(t.z ?? 0).toFixed(2)}`).join(', ')}` : ''})`);
    }
    console.log(`  final ${crit} ${autoCalib.distance.toPrecision(5)} (start ${autoCalib.uniform.find((u) => u.observer === autoCalib!.start)!.distance.toPrecision(5)})`);
  }
  let ada: (AdaRoundReport & { nearest_acc1: number; nearest_acc5: number }) | null = null;
  if (ptq.adaround) {
    const near = await evaluate(be, graph, qm.store, data.test, { hooks: qm.hooks, normalize: normalization });
    console.log(`Calibration (round-to-nearest weights): evaluation Acc@1 ${fmt(near.acc1)} Acc@5 ${fmt(near.acc5)}`);
    const c = ptq.adaround;
    console.log(`AdaRound: ${qm.plan.weights.length} layers, ${c.numSteps} steps, ${c.numBatches} batches of ${c.batchSize}, warm_up ${c.warmUp}, weight ${c.weight}, b_range ${c.bRange.join('-')}, lr ${c.lr}` +
      (c.excludePrefix.length ? `, exclude ${c.excludePrefix.join(',')}` : ''));
    const r = await adaround(qm, calibDs, c, {
      normalize: normalization,
      onProgress: (p) => {
        if (p.step % 50 === 0 || p.step === p.steps) process.stderr.write(`AdaRound [layer ${p.layer}/${p.layers} ${p.node}: step ${p.step}/${p.steps}${p.recon !== null ? ` recon ${p.recon.toPrecision(4)}` : ''}]\n`);
      },
    });
    for (const l of r.layers) {
      console.log(`  ${l.node}: ${l.rounding}${l.nearest_error !== null ? `, layer error ${l.nearest_error.toPrecision(4)} -> ${l.adaround_error!.toPrecision(4)}, ${l.changed} of ${l.weights} weights changed` : ''} (${l.seconds.toFixed(1)} s)`);
    }
    ada = { ...r, nearest_acc1: near.acc1, nearest_acc5: near.acc5 };
  }
  const ev = await evaluate(be, graph, qm.store, data.test, { hooks: qm.hooks, normalize: normalization });
  // Without labels: the output similarity to the float model on the held-out images instead of accuracy.
  let similarity: OutputSimilarity[] | null = null;
  if (data.test.labels) console.log(`Calibration: evaluation Acc@1 ${fmt(ev.acc1)} Acc@5 ${fmt(ev.acc5)}`);
  else {
    const floatStore = new ParamStore(be, graph, host);
    try {
      similarity = await outputSimilarity(be, { graph, store: qm.store, hooks: qm.hooks }, { graph, store: floatStore }, data.test, { batchSize: o.batchSize, normalize: normalization });
    } finally {
      floatStore.dispose();
    }
    console.log(`Calibration: no labels, no accuracy; output similarity to the float model on ${data.test.count} held-out images: ${similarityText(similarity)}`);
  }
  const scales = await qm.scales();
  // an imported model's first stage may be calib: its folder does not exist yet
  await mkdir(o.modelPath, { recursive: true });
  await writeFile(join(o.modelPath, 'calib-checkpoint'), encodeQuantCheckpoint({
    model: modelName, stage: 'calib', graph, qconfig: qc, params: await qm.store.toHost(), qsites: await qm.toHost(),
    meta: { calibImages: cal.images, normalization, ...(ada ? { adaround: ada.config } : {}), ...(autoCalib ? { autoCalib: { candidates: autoCalib.candidates, criterion: autoCalib.criterion, gate: autoCalib.gate, images: autoCalib.images, observeImages: autoCalib.observe_images, start: autoCalib.start, choices: autoCalib.choices.map((c) => ({ site: c.site, observer: c.observer, changed: c.changed })) } } : {}) },
  }));
  await mergeReport(o.modelPath, 'calib', {
    acc1: ev.acc1, acc5: ev.acc5, epochs: 0, train_images: cal.images, test_images: ev.images,
    images_per_s: cal.imagesPerSecond, seconds: cal.seconds, backend: be.kind, adapter: be.adapter,
    observer: qc.activation.observer, qconfig: qc.template, int16_sites: int16, march: qc.march, rounding: qc.rounding, scales, model: modelName, normalization,
    weight_bits: qc.weight.dtype === 'qint4' ? 4 : 8, adaround: ada, auto_calib: autoCalib,
    labelled: data.test.labels !== null, ...(similarity ? { similarity: similarityForReport(similarity) } : {}),
  });
  qm.store.dispose();
  qm.dispose();
  be.dispose();
}
