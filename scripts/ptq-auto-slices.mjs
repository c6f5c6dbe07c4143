// Automatic calibration against every single observer over several calibration slices (issue 13's target "at least
// as accurate as the best single observer"): one calibration image draw decides which single observer scores best on
// the test images (it flips between draws, and the best of six is the maximum of six noisy figures), so each method
// is judged by its mean over the slices, and the paired per-image counts are pooled over them.
// The runs come from scripts/ptq-targets.sh (one folder per model, method and slice: <model>-<method>[-sSLICE]), e.g.
//   for s in "" 59999 59998 59997; do
//     OBSERVERS=minmax,percentile,mse,kl,percentile:99.9,percentile:99.999 RUNS="minmax percentile mse kl auto" \
//       CRITERION=kl TEST=200 AUTO_IMAGES=1024 GATE=0 AUTO_NAME=auto-n1024-g0 SLICE=$s bash scripts/ptq-targets.sh cnn-obs fcnn-obs; done
// (the single observers are those a calibration takes, --observer; the automatic one searches them and two more
// percentiles).
// Usage: node scripts/ptq-auto-slices.mjs   (environment: MODELS=cnn,fcnn; OBSERVERS=minmax,percentile,mse,kl the
//        single observers; AUTO=auto-n1024-g0;
//        SLICES=,59999,59998,59997 (an empty entry: the first slice, no --subset); ROOT=runs/ptq-targets)
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { qdqCorrect, readTestSet, signTest } from './fashion-test-set.mjs';

const root = process.env.ROOT ?? 'runs/ptq-targets';
const models = (process.env.MODELS ?? 'cnn,fcnn').split(',');
const observers = (process.env.OBSERVERS ?? 'minmax,percentile,mse,kl').split(',');
const auto = process.env.AUTO ?? 'auto-n1024-g0';
const slices = (process.env.SLICES ?? ',59999,59998,59997').split(',');
const folder = (m, method, s) => join(root, `${m}-${method}${s ? `-s${s}` : ''}`);
const report = (dir) => (existsSync(join(dir, 'report.json')) ? JSON.parse(readFileSync(join(dir, 'report.json'), 'utf8')) : null);
const sliceName = (s) => (s ? `s${s}` : 'first');
const test = readTestSet();

for (const m of models) {
  const methods = [...observers, auto];
  // Only slices where every method has its QDQ figure: the means compare like with like.
  const done = slices.filter((s) => methods.every((k) => typeof report(folder(m, k, s))?.qdq_accuracy?.acc1 === 'number'));
  const missing = slices.filter((s) => !done.includes(s));
  console.log(`\n${m}: ${done.length} calibration slice(s) complete (${done.map(sliceName).join(', ')})` +
    `${missing.length ? `; incomplete, left out: ${missing.map(sliceName).join(', ')}` : ''}`);
  if (!done.length) continue;
  const acc = new Map(methods.map((k) => [k, done.map((s) => report(folder(m, k, s)).qdq_accuracy.acc1)]));
  const mean = (k) => acc.get(k).reduce((a, b) => a + b, 0) / done.length;
  const w = Math.max(...methods.map((k) => k.length));
  console.log(`  ${'method'.padEnd(w)}  ${done.map((s) => sliceName(s).padStart(7)).join(' ')}    mean`);
  for (const k of methods) console.log(`  ${k.padEnd(w)}  ${acc.get(k).map((a) => a.toFixed(2).padStart(7)).join(' ')}  ${mean(k).toFixed(3)}`);
  const best = observers.reduce((b, k) => (mean(k) > mean(b) ? k : b), observers[0]);
  const bestPerSlice = done.map((_, i) => Math.max(...observers.map((k) => acc.get(k)[i])));
  console.log(`  best single observer by mean: ${best} ${mean(best).toFixed(3)} %; automatic ${mean(auto).toFixed(3)} % ` +
    `(${(mean(auto) - mean(best) >= 0 ? '+' : '')}${(mean(auto) - mean(best)).toFixed(3)} points); ` +
    `the best single per slice (chosen on the test images): ${bestPerSlice.map((a) => a.toFixed(2)).join(' / ')}, mean ${(bestPerSlice.reduce((a, b) => a + b, 0) / done.length).toFixed(3)}`);
  // Paired per image, pooled over the slices: automatic against each single observer.
  const autoOk = await Promise.all(done.map((s) => qdqCorrect(folder(m, auto, s), test)));
  for (const k of observers) {
    let onlyAuto = 0, onlyK = 0;
    for (const [i, s] of done.entries()) {
      const ok = await qdqCorrect(folder(m, k, s), test);
      for (let j = 0; j < test.n; j++) {
        if (autoOk[i][j] && !ok[j]) onlyAuto++;
        if (ok[j] && !autoOk[i][j]) onlyK++;
      }
    }
    console.log(`  automatic vs ${k.padEnd(w)}: right only with automatic ${onlyAuto}, only with ${k} ${onlyK} ` +
      `over ${done.length} x ${test.n} images (sign test p = ${signTest(onlyAuto, onlyK).toFixed(3)})`);
  }
  for (const s of done) {
    const a = report(folder(m, auto, s)).calib.auto_calib;
    console.log(`  choices, ${sliceName(s)} (start ${a.start}): ${a.choices.map((c) => `${c.site} ${c.observer}${c.changed ? '*' : ''}`).join(', ')}`);
  }
}
