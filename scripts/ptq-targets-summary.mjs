// Prints the figures of `bash scripts/ptq-targets.sh ...` from runs/ptq-targets/*/report.json and the planted-fault log.
// Usage: node scripts/ptq-targets-summary.mjs [DIR]   (default runs/ptq-targets)
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';

const root = process.argv[2] ?? 'runs/ptq-targets';
const report = (d) => {
  const f = join(root, d, 'report.json');
  return existsSync(f) ? JSON.parse(readFileSync(f, 'utf8')) : null;
};
const pct = (x) => (typeof x === 'number' ? `${x.toFixed(2)} %` : '–');
const observers = (process.env.OBSERVERS ?? 'minmax,percentile,mse,kl').split(',');
// SLICE=N: the observer parts' second calibration slice (ptq-targets.sh's SLICE; folders <model>-<run>-sN).
const slice = process.env.SLICE ? `-s${process.env.SLICE}` : '';
// AUTO=NAME: the automatic calibration's folder name (ptq-targets.sh's AUTO_NAME; default auto).
const autoName = process.env.AUTO ?? 'auto';

const f = report('cnn')?.float;
if (f) console.log(`cnn-small float: ${pct(f.acc1)} on ${f.test_images} test images (${f.train_images} train images, ${f.epochs} epoch(s), ${f.seconds.toFixed(0)} s)`);
const tf = join(root, 'cnn', 'torch-float.json');
if (!f && existsSync(tf)) {
  const t = JSON.parse(readFileSync(tf, 'utf8'));
  console.log(`cnn-small float (trained by PyTorch ${t.torch}): ${pct(t.acc1)} on ${t.test_images} test images (${t.train_images} train images, ${t.epochs} epoch(s), ${t.seconds.toFixed(0)} s)`);
}

for (const m of ['cnn', 'resnet']) {
  const c = report(`${m}-w4`)?.calib;
  if (!c?.adaround) continue;
  const a = c.adaround;
  console.log(`${m} W4A8 (${c.test_images} test images): round-to-nearest ${pct(a.nearest_acc1)}, AdaRound ${pct(c.acc1)} ` +
    `(${a.config.numSteps} steps x ${a.config.numBatches} batches of ${a.config.batchSize}, lr ${a.config.lr}; ${a.seconds.toFixed(0)} s)`);
  for (const l of a.layers) console.log(`   ${l.node}: ${l.rounding}, layer error ${l.nearest_error?.toPrecision(4)} -> ${l.adaround_error?.toPrecision(4)}, ${l.changed}/${l.weights} changed`);
}

for (const m of ['cnn', 'fcnn']) {
  const all = [...observers, 'auto'].map((o) => [o, report(`${m}-${o === 'auto' ? autoName : o}${slice}`)]).filter(([, r]) => r?.calib);
  if (!all.length) continue;
  // Two figures per calibration: the studio's own Acc@1 (calib.test_images) and the QDQ export's on all test images.
  for (const [what, acc, images] of [['studio', (r) => r.calib.acc1, (r) => r.calib.test_images], ['QDQ export, onnxruntime', (r) => r.qdq_accuracy?.acc1, (r) => r.qdq_accuracy?.test_images]]) {
    const rows = all.filter(([, r]) => typeof acc(r) === 'number');
    if (!rows.length) continue;
    const single = rows.filter(([o]) => o !== 'auto');
    const auto = rows.find(([o]) => o === 'auto')?.[1];
    const best = single.reduce((b, r) => (!b || acc(r[1]) > acc(b[1]) ? r : b), null);
    const d = auto && best ? acc(auto) - acc(best[1]) : null;
    console.log(`${m} int8, ${what} (${images(rows[0][1])} test images): ${single.map(([o, r]) => `${o} ${pct(acc(r))}`).join(', ')}; ` +
      `best single ${best ? `${best[0]} ${pct(acc(best[1]))}` : '–'}; automatic ${pct(auto && acc(auto))}` + (d !== null ? ` (${d >= 0 ? '+' : ''}${d.toFixed(2)} points)` : ''));
  }
  const a = report(`${m}-${autoName}${slice}`)?.calib?.auto_calib;
  if (a) {
    if (a.uniform) console.log(`   whole model with one observer, ${a.criterion ?? "l2"} on ${a.images} images (observers on ${a.observe_images ?? a.images}; gate ${a.gate ?? 0}): ${a.uniform.map((u) => `${u.observer} ${u.distance.toPrecision(4)}`).join(', ')}; start ${a.start}, final ${a.distance.toPrecision(4)}`);
    console.log(`   choices: ${a.choices.map((c) => `${c.site} ${c.observer}${c.changed ? ' (changed)' : c.gated ? ' (kept by the gate)' : ''}`).join(', ')} (${a.seconds.toFixed(0)} s)`);
  }
}

const s = report('cnn-mse')?.analyze?.sensitivity_summary;
if (s) console.log(`cnn-small sensitivity pass: ${s.images} images, ${s.seconds.toFixed(1)} s (float ${pct(s.acc1_float)}, int8 ${pct(s.acc1_quantized)})`);

const planted = join(root, 'planted.log');
if (existsSync(planted)) {
  const line = readFileSync(planted, 'utf8').split('\n').find((l) => l.includes('planted fault:'));
  if (line) console.log(line.trim());
}
