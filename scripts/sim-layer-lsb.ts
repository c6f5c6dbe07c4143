/**
 * The fixed-point simulator against the fake-quant and float models, for an ONNX model on one march (calibrated,
 * min-max, on seeded images: the plane waves of scripts/unlabelled-images.ts, or uniform noise; tested on others):
 *  - per layer: each simulator layer fed the fake-quant model's own integers, max |simulator − round(fq / s)| in
 *    LSB (the layer's own error, no drift from earlier layers); printed per layer kind, and per layer for one kind;
 *  - end to end: the output SQNR of the simulator and of the fake-quant model against the float model, and of the
 *    simulator against the fake-quant model; the float islands of the integer model.
 *   node --import tsx --import ./scripts/wgsl-hooks.mjs scripts/sim-layer-lsb.ts [ONNX] [--march nash-e]
 *        [--calib 32] [--test 16] [--kind layernorm] [--images waves|noise]
 */
import { readFileSync } from 'node:fs';
import { parseArgs } from 'node:util';
import { PNG } from 'pngjs';
import { wavePng } from './unlabelled-images.ts';
import { withoutLabels, type ImageDataset } from '../src/data/dataset.ts';
import { normalizeImages } from '../src/data/loader.ts';
import { Tape } from '../src/engine/autograd.ts';
import { createCpuBackend } from '../src/engine/reference/cpu-backend.ts';
import { fuse } from '../src/graph/passes/fuse.ts';
import { importOnnx } from '../src/io/onnx/import.ts';
import { runGraph } from '../src/nn/executor.ts';
import { ParamStore } from '../src/nn/params.ts';
import { calibrate } from '../src/quant/calibrate.ts';
import { convertQuantizedModel } from '../src/quant/convert.ts';
import { prepare } from '../src/quant/prepare.ts';
import { qconfigTemplate } from '../src/quant/qconfig.ts';
import type { March } from '../src/qmath/march.ts';
import { QuantizedModel } from '../src/quant/quantized-model.ts';
import { execLayer, runIntModel } from '../src/sim/run.ts';

const { values: a, positionals } = parseArgs({
  allowPositionals: true,
  options: { march: { type: 'string', default: 'nash-e' }, calib: { type: 'string', default: '32' }, test: { type: 'string', default: '16' }, kind: { type: 'string', default: 'layernorm' }, images: { type: 'string', default: 'waves' } },
});
const file = positionals[0] ?? 'tests/fixtures/onnx/vit_tiny.onnx';
const r = importOnnx(new Uint8Array(readFileSync(file)), file);
const f = fuse(r.graph, r.host);
const [C, H, W] = f.graph.inputShape;

/** n images from `seed` on: plane waves (scripts/unlabelled-images.ts, RGB, H = W) or uniform noise. */
function images(n: number, seed: number): ImageDataset {
  let s = seed >>> 0;
  const rnd = () => ((s = (Math.imul(s, 1664525) + 1013904223) >>> 0) / 4294967296);
  const px = new Uint8Array(n * C * H * W);
  if (a.images === 'waves') {
    if (C !== 3 || H !== W) throw new Error(`--images waves needs a 3xSxS input, the model takes [${C}, ${H}, ${W}]`);
    for (let k = 0; k < n; k++) {
      const { data } = PNG.sync.read(Buffer.from(wavePng(1000 * seed + k, H)));
      for (let c = 0; c < C; c++) for (let i = 0; i < H * W; i++) px[(k * C + c) * H * W + i] = data[4 * i + c];
    }
  } else {
    for (let i = 0; i < px.length; i++) px[i] = Math.floor(256 * rnd());
  }
  return withoutLabels({ name: a.images!, images: px, labels: new Uint8Array(n), count: n, channels: C, height: H, width: W, numClasses: 10, classNames: [] });
}

const sqnr = (ref: Float32Array, x: Float32Array) => {
  let rr = 0, ee = 0;
  for (let i = 0; i < ref.length; i++) { rr += ref[i] ** 2; ee += (x[i] - ref[i]) ** 2; }
  return 10 * Math.log10(rr / ee);
};

const be = createCpuBackend();
const plan = prepare(f.graph, qconfigTemplate('default_calibration', { march: a.march as March, observer: 'minmax' }));
const qm = new QuantizedModel(be, plan, new ParamStore(be, f.graph, f.host));
await calibrate(qm, images(Number(a.calib), 1), { batchSize: 8, normalize: r.normalization });
const im = await convertQuantizedModel(qm);
const n = Number(a.test);
const xs = normalizeImages(images(n, 2), r.normalization);
const shape = [n, C, H, W];

const tape = new Tape(be, false, false);
const run = runGraph(tape, qm.plan.graph, qm.store, tape.input(xs, shape), { ...qm.hooks, keep: () => true });
const fq = await be.read(run.output.value);
const perKind = new Map<string, number>(), perLayer: string[] = [];
for (const layer of im.layers) {
  if (layer.op === 'quantize' || layer.op === 'dequantize' || im.values[layer.id].dtype === 'int32') continue;
  const ins = await Promise.all(layer.inputs.map(async (id) => {
    const info = im.values[id], v = await be.read(run.values.get(id)!.value);
    const data = info.dtype === 'int16' ? new Int16Array(v.length) : new Int8Array(v.length);
    for (let i = 0; i < v.length; i++) data[i] = Math.round(v[i] / info.scales[0]);
    return { data, shape: [n, ...info.shape] };
  }));
  const got = execLayer(im, layer, ins);
  const ref = await be.read(run.values.get(layer.id)!.value), s = im.values[layer.id].scales[0];
  let w = 0, eq = 0;
  for (let i = 0; i < ref.length; i++) {
    const e = Math.abs(Math.round(ref[i] / s) - got.data[i]);
    w = Math.max(w, e);
    if (e === 0) eq++;
  }
  const kind = layer.op === 'float' ? `float ${layer.fn.kind}` : layer.op;
  perKind.set(kind, Math.max(perKind.get(kind) ?? 0, w));
  if (kind.endsWith(a.kind!)) perLayer.push(`  ${layer.id} (${kind}, ${im.values[layer.id].dtype}): max ${w} LSB, ${(100 * eq / ref.length).toFixed(2)}% equal`);
}
tape.dispose();

const t2 = new Tape(be, false, false);
const floatStore = new ParamStore(be, f.graph, f.host);
const fl = await be.read(runGraph(t2, f.graph, floatStore, t2.input(xs, shape)).output.value);
t2.dispose();
const sim = runIntModel(im, xs, n).output;

console.log(`${file} on ${a.march}, calibrated on ${a.calib} ${a.images} images, ${n} test images`);
console.log(`float islands: ${im.layers.filter((l) => l.op === 'float').map((l) => l.id).join(', ') || 'none'}`);
console.log(`worst |simulator − fake quant| per layer kind, each layer fed the fake-quant integers (LSB): ${[...perKind].map(([k, v]) => `${k} ${v}`).join(', ')}`);
console.log(`${a.kind} layers:\n${perLayer.join('\n')}`);
console.log(`output SQNR vs float: simulator ${sqnr(fl, sim).toFixed(3)} dB, fake quant ${sqnr(fl, fq).toFixed(3)} dB; simulator vs fake quant ${sqnr(fq, sim).toFixed(3)} dB`);
