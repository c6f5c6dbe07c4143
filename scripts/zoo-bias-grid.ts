/**
 * Diagnosis for docs/zoo.md: how much of the end-to-end top-1 disagreement simulator vs fake-quant model comes from
 * the int32 biases. The simulator (and the QDQ export) add biases rounded to int32 at x_scale·w_scale[o]; the
 * fake-quant model adds the float bias. This calibrates a model (default_calibration), measures the agreement
 * (deployment check), then moves every conv / linear bias onto its int32 grid in the float model (the value the
 * simulator uses) and measures again; nothing else changes.
 * Usage: node --import tsx --import ./scripts/wgsl-hooks.mjs scripts/zoo-bias-grid.ts FILE.onnx [TEST_IMAGES]
 */
import { readFileSync } from 'node:fs';
import { buildQuantized } from '../src/cli/stages/quant-common.ts';
import { randomSubset } from '../src/data/dataset.ts';
import { createCpuBackend } from '../src/engine/reference/cpu-backend.ts';
import { fuse } from '../src/graph/passes/fuse.ts';
import { importOnnx } from '../src/io/onnx/import.ts';
import { calibrate } from '../src/quant/calibrate.ts';
import { convertQuantizedModel } from '../src/quant/convert.ts';
import { deployCheck } from '../src/quant/deploy-check.ts';
import { weightScales } from '../src/quant/int-weights.ts';
import { qconfigTemplate } from '../src/quant/qconfig.ts';
import type { IntModel } from '../src/sim/model.ts';
import type { QuantizedModel } from '../src/quant/quantized-model.ts';
import { runIntModel } from '../src/sim/run.ts';
import { fashionAsCifar } from './zoo-quant.ts';

const [file, nTest = '100'] = process.argv.slice(2);
const data = await fashionAsCifar(64, Number(nTest));
const be = createCpuBackend();
const r = importOnnx(new Uint8Array(readFileSync(file)), file);
const f = fuse(r.graph, r.host);
const agreement = async (host: typeof f.host, sites?: Awaited<ReturnType<QuantizedModel['toHost']>>) => {
  const qm = buildQuantized(be, f.graph, host, qconfigTemplate('default_calibration'), sites);
  if (!sites) await calibrate(qm, randomSubset(data.train, 32, 1), { batchSize: 16, normalize: r.normalization });
  qm.setState('VALIDATION');
  const im = await convertQuantizedModel(qm);
  const d = await deployCheck(qm, im, data.test, async (x, n, dump) => {
    const s = runIntModel(im, x, n, { dump });
    return { output: s.output!, dumps: s.dumps };
  }, { batchSize: 50, normalize: r.normalization });
  return { qm, im, agreement: d.agreement_top1 };
};
const a = await agreement(f.host);
// the same activation scales (the calibrated sites), the biases moved onto the simulator's int32 values
const host = await a.qm.store.toHost();
const im: IntModel = a.im;
const byId = new Map(a.qm.plan.graph.nodes.map((n) => [n.id, n]));
let moved = 0;
for (const l of im.layers) {
  if (l.op !== 'conv2d' && l.op !== 'linear') continue;
  const node = byId.get(l.id)!;
  if (!node.params.bias) continue;
  const xs = im.values[l.inputs[0]].scales[0];
  const C = l.weightShape[0];
  const ws = weightScales(host[node.params.weight] as Float32Array, C, -128, 127, im.march);
  const b = host[node.params.bias] as Float32Array;
  for (let o = 0; o < C; o++) b[o] = l.bias[o] * Math.fround(Math.fround(xs) * ws[o]);
  moved++;
}
const g = await agreement(host, await a.qm.toHost());
const same = JSON.stringify(Object.values(g.im.values).map((v) => v.scales)) === JSON.stringify(Object.values(im.values).map((v) => v.scales));
console.log(`${file}: top-1 agreement simulator vs fake quant ${a.agreement.toFixed(1)} % with float biases, ` +
  `${g.agreement.toFixed(1)} % with the ${moved} conv/linear biases on their int32 grid (${data.test.count} images; integer models otherwise ${same ? 'identical in scales' : 'DIFFERENT in scales'})`);
