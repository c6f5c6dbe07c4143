/**
 * Diagnosis for docs/zoo.md: where the simulator run end to end drifts from the fake-quant model. Calibrates a
 * fine-tuned zoo model as scripts/zoo-quant.ts does (default_calibration, the same images), runs the deployment
 * check and prints every layer in graph order: the share of equal integers, the largest difference in LSB and the
 * SQNR of the simulator (fed its own values) against the fake-quant model, so the first layer that departs shows.
 * Usage: node --import tsx --import ./scripts/wgsl-hooks.mjs scripts/zoo-drift.ts NAME [TEST_IMAGES]
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
import { qconfigTemplate } from '../src/quant/qconfig.ts';
import { runIntModel } from '../src/sim/run.ts';
import { requantizeValueHorizon } from '../src/sim/int/requant.ts';
import { quantizeValue } from '../src/qmath/fake-quantize.ts';
import { ensureZooFinetuned, zooFinetunedFile } from './zoo-models.ts';
import { fashionAsCifar, ZOO_QUANT_DEFAULTS } from './zoo-quant.ts';

const [name, nTest = '200'] = process.argv.slice(2);
const o = ZOO_QUANT_DEFAULTS;
const dir = ensureZooFinetuned([name], 100);
const data = await fashionAsCifar(Math.max(o.calibImages, o.qatSteps * o.batchSize), Number(nTest));
const be = createCpuBackend();
const r = importOnnx(new Uint8Array(readFileSync(zooFinetunedFile(dir, name))), name);
const f = fuse(r.graph, r.host);
const qm = buildQuantized(be, f.graph, f.host, qconfigTemplate('default_calibration'));
await calibrate(qm, randomSubset(data.train, Math.min(o.calibImages, data.train.count), 1), { batchSize: o.batchSize, normalize: r.normalization });
qm.setState('VALIDATION');
const im = await convertQuantizedModel(qm);
const d = await deployCheck(qm, im, data.test, async (x, n, dump) => {
  const s = runIntModel(im, x, n, { dump });
  return { output: s.output!, dumps: s.dumps };
}, { batchSize: o.batchSize * 4, normalize: r.normalization });
const order = new Map(im.layers.map((l, i) => [l.id, i]));
const layers = [...d.layers].sort((a, b) => (order.get(a.name) ?? 0) - (order.get(b.name) ?? 0));
console.log(`${name}: top-1 agreement ${d.agreement_top1.toFixed(1)} % on ${data.test.count} images`);
for (const l of layers) {
  const op = im.layers[order.get(l.name) ?? 0]?.op ?? '?';
  console.log(`${l.name.padEnd(48)} ${op.padEnd(10)} ${l.dtype.padEnd(6)} equal ${(100 * l.equal_frac).toFixed(1).padStart(5)} %  max ${String(l.max_lsb).padStart(7)} LSB  SQNR ${l.sqnr_db.toFixed(1)} dB`);
}

// Each rescale (concat) input over its whole int8 range: the fake quant's requantization (f32(f32(q * s_in) *
// f32(1 / s_out)), half to even) against the simulator's (multiplier + shift, half up); how many codes differ, and
// how many of those are exact ties of q * s_in / s_out (where the two rounding modes part by definition).
for (const l of im.layers) {
  if (l.op !== 'rescale') continue;
  const sOut = im.values[l.id].scales[0];
  const parts = l.inputs.map((id, i) => {
    const sIn = im.values[id].scales[0];
    let differ = 0, ties = 0;
    const codes: string[] = [];
    for (let q = -128; q <= 127; q++) {
      const fq = Math.min(127, Math.max(-128, quantizeValue(Math.fround(q * Math.fround(sIn)), Math.fround(1 / Math.fround(sOut)), 0, 'half_even')));
      const sim = requantizeValueHorizon(q, l.requant[i].multiplier[0], l.requant[i].shift[0], 0, -128, 127);
      if (fq !== sim) {
        differ++;
        codes.push(`${q}: ${(q * Math.fround(sIn) / Math.fround(sOut)).toFixed(7)} -> fq ${fq}, sim ${sim}`);
        const t = (q * Math.fround(sIn)) / Math.fround(sOut);
        if (Math.abs(Math.abs(t - Math.trunc(t)) - 0.5) < 1e-9) ties++;
      }
    }
    return `in${i} ${(sIn / sOut).toFixed(6)}: ${differ} codes differ (${ties} exact ties)${codes.length ? ` [${codes.join('; ')}]` : ''}`;
  });
  console.log(`${l.id}: ${parts.join('; ')}`);
}
