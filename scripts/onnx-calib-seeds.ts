/**
 * Quant Studio's calibration of an imported ONNX model over several calibration sets (the CLI's calib
 * stage uses seed 1), to set its int8 accuracy against the spread of PyTorch's PTQ
 * (scripts/onnx-ptq-seeds.py). CPU reference backend, fused graph, one qconfig template.
 *   node --import tsx scripts/onnx-calib-seeds.ts [FILE.onnx] [TEMPLATE] [SEEDS...]
 * defaults: tests/fixtures/onnx/fashion_cnn.onnx default_calibration 1 2 3 4 5; data: the IDX split in
 * /usr/share/datasets/fashion-mnist; seed s: randomSubset(train, 512, s).
 */
import { readFileSync } from 'node:fs';
import { basename } from 'node:path';
import { randomSubset } from '../src/data/dataset.ts';
import { loadIdxFolder } from '../src/data/idx.ts';
import { createCpuBackend } from '../src/engine/reference/cpu-backend.ts';
import { fuse } from '../src/graph/passes/fuse.ts';
import { importOnnx } from '../src/io/onnx/import.ts';
import { ParamStore } from '../src/nn/params.ts';
import { calibrate } from '../src/quant/calibrate.ts';
import { prepare } from '../src/quant/prepare.ts';
import { qconfigTemplate } from '../src/quant/qconfig.ts';
import { QuantizedModel } from '../src/quant/quantized-model.ts';
import { evaluate } from '../src/train/evaluate.ts';

const [file = 'tests/fixtures/onnx/fashion_cnn.onnx', template = 'default_calibration', ...rest] = process.argv.slice(2);
const seeds = rest.length ? rest.map(Number) : [1, 2, 3, 4, 5];
const data = await loadIdxFolder('/usr/share/datasets/fashion-mnist');
const r = importOnnx(new Uint8Array(readFileSync(file)), basename(file));
const f = fuse(r.graph, r.host);
const be = createCpuBackend();
const accs: number[] = [];
for (const seed of seeds) {
  const qm = new QuantizedModel(be, prepare(f.graph, qconfigTemplate(template)), new ParamStore(be, f.graph, f.host));
  await calibrate(qm, randomSubset(data.train, 512, seed), { batchSize: 128, normalize: r.normalization });
  const ev = await evaluate(be, f.graph, qm.store, data.test, { hooks: qm.hooks, normalize: r.normalization });
  accs.push(ev.acc1);
  console.log(`seed ${seed}: ${template} int8 acc ${ev.acc1.toFixed(2)}`);
  qm.store.dispose();
  qm.dispose();
}
const mean = accs.reduce((a, b) => a + b, 0) / accs.length;
console.log(`${template} over ${accs.length} calibration sets: mean ${mean.toFixed(3)}, min ${Math.min(...accs).toFixed(2)}, max ${Math.max(...accs).toFixed(2)}`);
