/**
 * The zoo through the whole quantized flow (scripts/zoo-quant.ts): per model one markdown row with the float,
 * calibrated and QAT accuracies, the simulator's top-1 agreement with the fake-quant model and its largest per-layer
 * difference in LSB (calibrated and QAT model), and the QDQ export's top-1 agreement with the simulator in
 * onnxruntime-node (optimizations off / on). Targets (issue 10): agreement >= 99 %, <= 2 LSB per layer on the
 * calibrated model, QDQ >= 99 % (unfused). docs/zoo.md holds the last table measured.
 * Usage: node --import tsx --import ./scripts/wgsl-hooks.mjs scripts/zoo-quant-report.ts [--test N] [--calib N]
 *   [--qat-steps N] [--qat-lr LR] [--batch N] [--finetune-steps N | --random] [NAME ...]
 */
import { readFileSync } from 'node:fs';
import { createCpuBackend } from '../src/engine/reference/cpu-backend.ts';
import { ensureZoo, ensureZooFinetuned, zooFile, zooFinetunedFile, ZOO_MODELS } from './zoo-models.ts';
import { fashionAsCifar, quantFlow, ZOO_QUANT_DEFAULTS, type ZooQuantResult } from './zoo-quant.ts';

const args = process.argv.slice(2);
const VALUED = ['--test', '--calib', '--qat-steps', '--qat-lr', '--finetune-steps', '--batch'];
const opt = (k: string, d: number) => (args.includes(k) ? Number(args[args.indexOf(k) + 1]) : d);
const testCount = opt('--test', 500);
const o = {
  calibImages: opt('--calib', ZOO_QUANT_DEFAULTS.calibImages), qatSteps: opt('--qat-steps', ZOO_QUANT_DEFAULTS.qatSteps),
  batchSize: opt('--batch', ZOO_QUANT_DEFAULTS.batchSize), qatLr: opt('--qat-lr', ZOO_QUANT_DEFAULTS.qatLr),
};
const names = args.filter((a, i) => !a.startsWith('--') && !VALUED.includes(args[i - 1]));
const models = names.length ? names : [...ZOO_MODELS];

const t0 = performance.now();
// --random: the zoo's random weights as exported for the import tests; else fine-tuned for --finetune-steps (100)
const random = args.includes('--random');
const ftSteps = opt('--finetune-steps', 100);
const dir = random ? ensureZoo(models) : ensureZooFinetuned(models, ftSteps);
const file = (name: string) => (random ? zooFile(dir, name) : zooFinetunedFile(dir, name));
console.error(`models in ${dir} (${((performance.now() - t0) / 1000).toFixed(0)} s to export what was missing)`);
const data = await fashionAsCifar(Math.max(o.calibImages, o.qatSteps * o.batchSize), testCount);
const be = createCpuBackend();
const pc = (v: number) => v.toFixed(1);
const lsb = (c: ZooQuantResult['calib']) => `${c.maxLsb.toFixed(2)} ${c.maxLsb <= 2 ? '✓' : '✗'} (${c.maxLsbLayer}); e2e ${c.e2eLsb.toFixed(0)}`;
const ok = (v: number) => `${v.toFixed(1)} ${v >= 99 ? '✓' : '✗'}`;
const rows: string[] = [];
for (const name of models) {
  const bytes = new Uint8Array(readFileSync(file(name)));
  const r = await quantFlow(be, name, bytes, data, { ...o, onStage: (s) => console.error(`${name}: ${s} done (${((performance.now() - t0) / 1000).toFixed(0)} s)`) });
  rows.push(`| ${name} | ${pc(r.floatAcc)} (${pc(r.floatTopClassShare)}) | ${pc(r.calib.acc1)} | ${pc(r.qat.acc1)} | ${ok(r.calib.agreement)} / ${ok(r.qat.agreement)} | ` +
    `${lsb(r.calib)} | ${lsb(r.qat)} | ${ok(r.qdqUnfused)} / ${r.qdqFused.toFixed(1)} | ${r.seconds.toFixed(0)} |`);
  console.error(`${rows[rows.length - 1]}\n  QDQ vs fake quant ${r.qdqVsFakeQuant.toFixed(1)} %\n  stages (s): ${Object.entries(r.stageSeconds).map(([k, v]) => `${k} ${v.toFixed(1)}`).join(', ')}`);
}
be.dispose();
console.log('| model | float acc % (share of the top class) | calib acc % | QAT acc % | sim vs fake quant top-1 % (calib / QAT) | max LSB per layer, calib (layer) | max LSB per layer, QAT (layer) | QDQ in onnxruntime vs sim top-1 % (unfused / fused) | s |');
console.log('|---|---|---|---|---|---|---|---|---|');
for (const r of rows) console.log(r);
console.log(`\n${testCount} test images (Fashion-MNIST tinted to 3x32x32), ${o.calibImages} calibration images, ` +
  `${random ? 'random weights' : `fine-tuned in PyTorch for ${ftSteps} steps of 32 (scripts/zoo_finetune.py)`}, ` +
  `${o.qatSteps} QAT steps of ${o.batchSize} (SGD lr ${o.qatLr}, momentum 0.9); CPU reference backend; ${((performance.now() - t0) / 1000).toFixed(0)} s in all.`);
