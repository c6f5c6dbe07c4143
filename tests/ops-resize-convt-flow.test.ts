/**
 * Resize and ConvTranspose through the quantization flow, on PyTorch exports (scripts/fixtures_dense.py): the
 * UNet-style encoder-decoder (ConvTranspose + BN + ReLU, skip Concat, a bilinear Resize) and the FPN-style neck
 * (nearest upsampling by scale and by sizes from a Shape subgraph, + Add). (Float import vs onnxruntime on the CPU
 * reference and WebGPU: onnx-import*.test.ts; kernels and gradients: kernels-resample.test.ts.)
 *  - fusion: the BN after each ConvTranspose folds into it, its ReLU becomes its epilogue; nothing stays float;
 *  - prepare: nearest resize keeps its input's scale (no fake quant), bilinear resize and ConvTranspose are sites;
 *  - a distillation QAT step moves the ConvTranspose weights (gradients flow through both ops);
 *  - convert: every layer fed the fake-quant model's own integers is within 1 LSB of it (nearest exact), and the
 *    deployment check finds every int8 layer within 2 LSB end to end (the last Add 3: drift of both branches); the GPU simulator computes the same integers;
 *    the model file round-trips and refuses a broken resize table;
 *  - the QDQ export runs in onnxruntime and agrees with the simulator; the viewer labels both ops;
 *  - refusals name the node and the reason.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { withoutLabels, type ImageDataset } from '../src/data/dataset.ts';
import { iterateBatches } from '../src/data/loader.ts';
import { Tape } from '../src/engine/autograd.ts';
import { Optimizer } from '../src/engine/optim/optimizer.ts';
import { createCpuBackend } from '../src/engine/reference/cpu-backend.ts';
import { fusionReport } from '../src/graph/passes/check.ts';
import { fuse } from '../src/graph/passes/fuse.ts';
import { exportQdqOnnx } from '../src/io/onnx/export-qdq.ts';
import { importOnnx, OnnxImportError, type OnnxImportResult } from '../src/io/onnx/import.ts';
import { runGraph } from '../src/nn/executor.ts';
import { ParamStore } from '../src/nn/params.ts';
import { calibrate } from '../src/quant/calibrate.ts';
import { convertQuantizedModel, type IntModel } from '../src/quant/convert.ts';
import { deployCheck } from '../src/quant/deploy-check.ts';
import { adaround } from '../src/quant/ptq/adaround.ts';
import { ADAROUND_DEFAULTS } from '../src/quant/ptq/adaround-config.ts';
import { prepare } from '../src/quant/prepare.ts';
import { qconfigTemplate } from '../src/quant/qconfig.ts';
import { QuantizedModel } from '../src/quant/quantized-model.ts';
import { intLayerDef } from '../src/sim/layers.ts';
import { estimatePerf } from '../src/perf/estimate.ts';
import { opDef } from '../src/ops/registry.ts';
import { decodeModelFile, encodeModelFile, ModelFileError } from '../src/sim/model-file.ts';
import { releaseGpuModel, runIntModelGpu } from '../src/sim/run-gpu.ts';
import { execLayer, runIntModel, type IntTensor } from '../src/sim/run.ts';
import { distillStep } from '../src/train/distill.ts';
import { buildViewGraph } from '../src/ui/graph-view/graph-model.ts';
import { attributesOf } from '../src/ui/features/graph/node-facts.ts';
import { destroyTestBackend, getTestBackend } from './helpers/gpu.ts';
import { fixture, floatInit, int, ints, relError, runOrt, str, tinyModel, type TinyModel } from './helpers/onnx.ts';
import { mulberry32 } from './helpers/random.ts';

afterAll(destroyTestBackend);

/** Smooth random 3x32x32 images without labels. */
function images(n: number, seed: number): ImageDataset {
  const r = mulberry32(seed);
  const S = 32;
  const px = new Uint8Array(n * 3 * S * S);
  for (let i = 0; i < n; i++) {
    for (let c = 0; c < 3; c++) {
      const cx = 4 + r() * 24, cy = 4 + r() * 24, rad = 4 + r() * 10, amp = 80 + r() * 175;
      for (let y = 0; y < S; y++) for (let x = 0; x < S; x++) {
        const d = Math.hypot(x - cx, y - cy);
        px[((i * 3 + c) * S + y) * S + x] = Math.min(255, Math.round(amp * Math.exp(-(d * d) / (rad * rad)) + r() * 40));
      }
    }
  }
  return withoutLabels({ name: 'blobs', count: n, channels: 3, height: S, width: S, numClasses: 1, classNames: ['x'], images: px, labels: new Uint8Array(n) });
}

const calib = images(8, 1), test = images(4, 2);

async function quantized(name: string, template: 'default_calibration' | 'default_calibration_int16' = 'default_calibration', march: 'bayes' | 'bernoulli' = 'bayes', data = calib):
  Promise<{ r: OnnxImportResult; qm: QuantizedModel; im: IntModel; teacher: ParamStore }> {
  const r = importOnnx(fixture(name), `${name}.onnx`);
  const f = fuse(r.graph, r.host);
  const be = createCpuBackend();
  const qm = new QuantizedModel(be, prepare(f.graph, qconfigTemplate(template, { march })), new ParamStore(be, f.graph, f.host));
  await calibrate(qm, data, { batchSize: 8, normalize: r.normalization });
  qm.setState('VALIDATION');
  return { r, qm, im: await convertQuantizedModel(qm), teacher: new ParamStore(be, f.graph, f.host) };
}

/** Each integer layer fed the fake-quant model's own integer inputs: the worst |LSB| difference per layer. */
async function perLayerLsb(qm: QuantizedModel, im: IntModel, r: OnnxImportResult, data = test): Promise<Map<string, { op: string; lsb: number }>> {
  const n = 4;
  const x = [...iterateBatches(data, n, 0, 0, { shuffle: false, normalize: r.normalization })][0].x;
  const tape = new Tape(qm.be, false, false);
  const vals = new Map<string, Float32Array>();
  try {
    const { values } = runGraph(tape, qm.plan.graph, qm.store, tape.input(x, [n, ...r.inputShape]), { ...qm.hooks, keep: () => true });
    for (const [id, v] of values) vals.set(id, await qm.be.read(v.value));
  } finally {
    tape.dispose();
  }
  const toInt = (id: string): IntTensor => {
    const info = im.values[id], v = vals.get(id)!;
    const data = info.dtype === 'int16' ? new Int16Array(v.length) : new Int8Array(v.length);
    for (let i = 0; i < v.length; i++) data[i] = Math.round(v[i] / info.scales[0]);
    return { data, shape: [n, ...info.shape] };
  };
  const worst = new Map<string, { op: string; lsb: number }>();
  for (const layer of im.layers) {
    const info = im.values[layer.id];
    if (layer.op === 'quantize' || layer.op === 'dequantize' || (info.dtype !== 'int8' && info.dtype !== 'int16')) continue;
    const got = execLayer(im, layer, layer.inputs.map(toInt));
    const ref = vals.get(layer.id)!;
    let max = 0;
    for (let i = 0; i < ref.length; i++) max = Math.max(max, Math.abs(Math.round(ref[i] / info.scales[0]) - got.data[i]));
    worst.set(layer.id, { op: layer.op, lsb: max });
  }
  return worst;
}

describe('UNet: ConvTranspose + BN + ReLU, skip concat, bilinear resize', () => {
  let m: Awaited<ReturnType<typeof quantized>>;
  beforeAll(async () => { m = await quantized('unet'); });
  afterAll(() => {
    m.qm.store.dispose();
    m.qm.dispose();
    m.teacher.dispose();
  });

  it('fuses: BN folds into each ConvTranspose, ReLU is its epilogue; nothing float between the stubs', () => {
    const g = m.qm.plan.graph;
    const ct = g.nodes.filter((n) => n.op === 'conv_transpose2d');
    expect(ct).toHaveLength(2);
    for (const n of ct) {
      expect(n.attrs.act).toBe('relu');
      expect(n.attrs.fusedFrom?.length).toBe(3);
    }
    expect(g.nodes.some((n) => n.op === 'batchnorm2d')).toBe(false);
    const rep = fusionReport(g);
    // the one miss is the model's: d1 ends in its ReLU before the Add of the side branch
    expect(rep.unfused.map((u) => u.nodes[0])).toEqual(['d1/d1.0/Conv']);
    expect(rep.unfused[0].reason).toMatch(/already ends in its relu/);
    expect(rep.float).toEqual([]);
    // ConvTranspose and bilinear resize are activation sites; the ConvTranspose weight is quantized per channel
    const lin = g.nodes.find((n) => n.op === 'resize_linear')!;
    expect(m.qm.acts.has(lin.id)).toBe(true);
    for (const n of ct) expect(m.qm.acts.has(n.id)).toBe(true);
    expect(m.im.layers.filter((l) => l.op === 'conv_transpose2d').map((l) => l.requant?.multiplier.length)).toEqual([16, 8]);
  });

  it('every layer within 1 LSB of the fake-quant model; end to end every int8 layer within 2 LSB', async () => {
    const worst = await perLayerLsb(m.qm, m.im, m.r);
    expect([...worst.values()].filter((w) => w.op === 'conv_transpose2d')).toHaveLength(2);
    expect([...worst.values()].filter((w) => w.op === 'resize')).toHaveLength(1);
    for (const [id, w] of worst) expect(w.lsb, `${id} (${w.op})`).toBeLessThanOrEqual(1);
    const file = decodeModelFile(encodeModelFile(m.im), 'unet.qsbin');
    const res = await deployCheck(m.qm, file, test, async (x, n, dump) => runIntModel(file, x, n, { dump }), { normalize: m.r.normalization });
    const int8 = res.layers.filter((l) => l.dtype === 'int8');
    expect(int8.length).toBeGreaterThan(8);
    // end to end the errors of the layers before add up: the last Add (of the decoder and the resized side
    // branch, each 1 LSB off) reaches 3 of its own LSB; each layer fed its own inputs is within 1 (above)
    for (const l of int8) expect(l.max_lsb, l.name).toBeLessThanOrEqual(l.name === 'Add' ? 3 : 2);
  });

  it('the performance estimate counts the ConvTranspose and bilinear resize multiply-accumulates as the float model does', () => {
    const est = estimatePerf(m.im);
    const g = m.qm.plan.graph;
    const shapeOf = (role: string, id: string) => g.params.find((p) => p.name === g.nodes.find((n) => n.id === id)!.params[role])!.shape;
    for (const l of est.layers.filter((x) => x.op === 'conv_transpose2d' || x.op === 'resize')) {
      const n = g.nodes.find((x) => x.id === l.name)!;
      expect(l.macs_int8xint8, l.name).toBe(opDef(n.op).macs(n, (role) => shapeOf(role, n.id)));
      expect(l.macs_int8xint8, l.name).toBeGreaterThan(0);
    }
    expect(est.layers.filter((x) => x.op === 'conv_transpose2d')).toHaveLength(2);
  });

  it('the GPU simulator computes the same integers as the CPU simulator', async () => {
    const n = 3;
    const x = [...iterateBatches(test, n, 0, 0, { shuffle: false, normalize: m.r.normalization })][0].x;
    const cpu = runIntModel(m.im, x, n, { dump: true });
    const { ctx } = await getTestBackend();
    const gpu = await runIntModelGpu(m.im, x, n, ctx, { dump: true });
    for (const [id, t] of cpu.dumps) {
      expect(gpu.dumps.get(id)!.shape, id).toEqual(t.shape);
      expect(Array.from(gpu.dumps.get(id)!.data), id).toEqual(Array.from(t.data));
    }
    expect(Array.from(gpu.output)).toEqual(Array.from(cpu.output));
    releaseGpuModel(m.im, ctx);
  });

  it('the QDQ export runs in onnxruntime and agrees with the simulator', async () => {
    const bytes = await exportQdqOnnx(m.qm);
    const n = 4;
    const x = [...iterateBatches(test, n, 0, 0, { shuffle: false, normalize: m.r.normalization })][0].x;
    const ort = await runOrt(bytes, x, [n, ...m.r.inputShape]);
    const sim = runIntModel(m.im, x, n).output;
    expect(ort.length).toBe(sim.length);
    expect(relError(ort, sim)).toBeLessThan(0.05);
  });

  it('a distillation QAT step on unlabelled images moves the ConvTranspose weights', async () => {
    const { qm, teacher } = m;
    const g = qm.plan.graph;
    const ct = g.nodes.find((n) => n.op === 'conv_transpose2d')!;
    const wVar = qm.store.vars.get(ct.params.weight)!;
    const before = await qm.be.read(wVar.value);
    qm.setState('QAT');
    const opt = new Optimizer(qm.be, [...qm.store.vars.values()], { name: 'sgd', lr: 0.01 });
    const batch = [...iterateBatches(calib, 4, 0, 0, { shuffle: false, normalize: m.r.normalization })][0];
    const loss = await distillStep(qm.be, { graph: g, store: qm.store, hooks: qm.hooks }, { graph: g, store: teacher }, new Set(), { loss: 'mse', featureWeight: 0, withLabels: false }, opt, batch, true);
    qm.setState('VALIDATION');
    expect(loss).toBeGreaterThan(0);
    const after = await qm.be.read(wVar.value);
    expect(relError(after, before)).toBeGreaterThan(0);
  });

  it('the viewer labels ConvTranspose and the bilinear resize with their attributes', () => {
    const v = buildViewGraph(m.qm.plan.graph, m.qm.plan);
    const details = v.nodes.map((n) => n.detail);
    expect(details).toContain('ConvTranspose2d s2 p0 +relu');
    expect(details).toContain('ConvTranspose2d s2 p1 op1x1 +relu');
    expect(details).toContain('Resize (bilinear) x4 half_pixel');
    const g = m.qm.plan.graph;
    const ct = g.nodes.find((n) => n.op === 'conv_transpose2d' && n.attrs.outputPadding)!;
    expect(attributesOf(ct, g)).toEqual(expect.arrayContaining([{ key: 'kernel', value: '3×3' }, { key: 'output padding', value: '1, 1' }]));
    const rs = g.nodes.find((n) => n.op === 'resize_linear')!;
    expect(attributesOf(rs, g)).toEqual(expect.arrayContaining([{ key: 'output size', value: '32×32' }, { key: 'coordinates', value: 'half_pixel' }]));
  });

  it('AdaRound reconstructs a ConvTranspose layer (the others excluded)', async () => {
    const rep = await adaround(m.qm, calib, { ...ADAROUND_DEFAULTS, numBatches: 1, numSteps: 20, batchSize: 4, excludePrefix: ['e1', 'e2', 'b/', 'd1', 'd2', 'side', 'head'] }, { normalize: m.r.normalization });
    const done = rep.layers.filter((l) => l.rounding !== 'excluded');
    expect(done.map((l) => l.node).sort()).toEqual(['up1/up1.0/ConvTranspose', 'up2/up2.0/ConvTranspose']);
    for (const l of done) {
      expect(l.nearest_error).toBeGreaterThan(0);
      expect(l.adaround_error!).toBeLessThanOrEqual(l.nearest_error! * 1.0001);
    }
  });
});

describe('FPN neck (one output): nearest upsampling by scale and by sizes, + Add', () => {
  let m: Awaited<ReturnType<typeof quantized>>;
  beforeAll(async () => { m = await quantized('fpn_single'); });
  afterAll(() => {
    m.qm.store.dispose();
    m.qm.dispose();
    m.teacher.dispose();
  });

  it('nearest resize keeps its input\'s scale and copies its integers exactly; the rest within 1 LSB', async () => {
    const near = m.im.layers.filter((l) => l.op === 'resize');
    expect(near).toHaveLength(4);
    for (const l of near) {
      expect(l.requant).toBeNull();
      expect(m.im.values[l.id].scales).toEqual(m.im.values[l.inputs[0]].scales);
      expect(m.qm.acts.has(l.id)).toBe(false);
    }
    const worst = await perLayerLsb(m.qm, m.im, m.r);
    for (const [id, w] of worst) {
      if (w.op === 'resize') expect(w.lsb, id).toBe(0);
      expect(w.lsb, `${id} (${w.op})`).toBeLessThanOrEqual(1);
    }
  });

  it('the QDQ export (Resize by scales and by sizes from Shape) runs in onnxruntime and agrees with the simulator', async () => {
    const bytes = await exportQdqOnnx(m.qm);
    const n = 4;
    const x = [...iterateBatches(test, n, 0, 0, { shuffle: false, normalize: m.r.normalization })][0].x;
    const ort = await runOrt(bytes, x, [n, ...m.r.inputShape]);
    expect(relError(ort, runIntModel(m.im, x, n).output)).toBeLessThan(0.05);
  });

  it('the model file refuses a resize table that is not pairs of taps', () => {
    const l = m.im.layers.find((x) => x.op === 'resize')!;
    const fail = (reason: string): never => { throw new Error(reason); };
    expect(() => intLayerDef(l).validate({ ...l, rows: { index: Int32Array.of(0), weight: Int32Array.of(1) } } as typeof l, fail)).toThrow(/resize tables are not pairs of int32 taps/);
    const bad = { ...m.im, layers: m.im.layers.map((x) => (x === l ? { ...l, fracBits: 16 } : x)) };
    expect(() => decodeModelFile(encodeModelFile(bad), 'fpn.qsbin')).toThrow(ModelFileError);
  });
});

describe('the Resize / ConvTranspose variants (resize_ops_13.onnx) with int16 activations and on bernoulli', () => {
  // 4x8x8 inputs for this fixture
  const small = (n: number, seed: number): ImageDataset => {
    const r = mulberry32(seed);
    return withoutLabels({ name: 'noise', count: n, channels: 4, height: 8, width: 8, numClasses: 1, classNames: ['x'], images: Uint8Array.from({ length: n * 256 }, () => Math.floor(r() * 256)), labels: new Uint8Array(n) });
  };
  for (const [template, march] of [['default_calibration_int16', 'bayes'], ['default_calibration', 'bernoulli']] as const) {
    it(`${template} on ${march}: every layer within 1 LSB of the fake-quant model, nearest exact; the GPU simulator agrees`, async () => {
      const data = small(8, 3);
      const m = await quantized('resize_ops_13', template, march, data);
      const worst = await perLayerLsb(m.qm, m.im, m.r, data);
      const ops = [...worst.values()].map((w) => w.op);
      expect(ops.filter((o) => o === 'resize').length).toBeGreaterThanOrEqual(8);
      expect(ops.filter((o) => o === 'conv_transpose2d')).toHaveLength(2);
      if (template === 'default_calibration_int16') {
        const lin = m.im.layers.filter((l) => l.op === 'resize' && l.requant);
        expect(lin.length).toBeGreaterThan(0);
        for (const l of lin) expect(l.op === 'resize' && l.midShift, l.id).toBe(15);
      }
      for (const [id, w] of worst) {
        if (w.op === 'resize' && !(m.im.layers.find((l) => l.id === id) as { requant: unknown }).requant) expect(w.lsb, id).toBe(0);
        expect(w.lsb, `${id} (${w.op})`).toBeLessThanOrEqual(1);
      }
      const x = [...iterateBatches(data, 2, 0, 0, { shuffle: false, normalize: m.r.normalization })][0].x;
      const { ctx } = await getTestBackend();
      const gpu = await runIntModelGpu(m.im, x, 2, ctx);
      expect(Array.from(gpu.outputInt.data)).toEqual(Array.from(runIntModel(m.im, x, 2).outputInt.data));
      releaseGpuModel(m.im, ctx);
      m.qm.store.dispose();
      m.qm.dispose();
      m.teacher.dispose();
    });
  }
});

describe('every coordinate transformation and nearest mode vs onnxruntime (handmade Resize after a conv)', () => {
  const f32 = (name: string, v: number[]) => ({ name, dims: [v.length], dataType: 1, rawData: new Uint8Array(Float32Array.from(v).buffer) });
  const cases: Array<[string, string, string, number[]]> = [];
  for (const coord of ['half_pixel', 'pytorch_half_pixel', 'align_corners', 'asymmetric', 'tf_half_pixel_for_nn']) {
    for (const nearest of ['round_prefer_floor', 'round_prefer_ceil', 'floor', 'ceil']) cases.push(['nearest', coord, nearest, [1, 1, 1.5, 2.5]]);
    cases.push(['linear', coord, 'round_prefer_floor', [1, 1, 1.5, 2.5]]);
    cases.push(['linear', coord, 'round_prefer_floor', [1, 1, 0.5, 0.7]]);
  }
  for (const [mode, coord, nearest, sc] of cases) {
    if (mode === 'linear' && coord === 'tf_half_pixel_for_nn') continue; // defined for nearest only
    it(`${mode} ${coord}${mode === 'nearest' ? ` ${nearest}` : ''} scales ${sc.slice(2).join('x')}: CPU within 1e-5 of onnxruntime`, async () => {
      const bytes = tinyModel({
        nodes: [
          { opType: 'Conv', name: 'conv', input: ['input', 'w'], output: ['c'], attribute: [ints('pads', [1, 1, 1, 1])] },
          { opType: 'Resize', name: 'rs', input: ['c', '', 'sc'], output: ['y'], attribute: [str('mode', mode), str('coordinate_transformation_mode', coord), str('nearest_mode', nearest)] },
        ],
        inits: [floatInit('w', [4, 2, 3, 3]), f32('sc', sc)],
      });
      const r = importOnnx(bytes, 'rs.onnx');
      const x = Float32Array.from({ length: 2 * 2 * 36 }, (_, i) => Math.sin(i * 0.37) + (i % 5) * 0.1);
      const want = await runOrt(bytes, x, [2, 2, 6, 6]);
      const be = createCpuBackend();
      const tape = new Tape(be, false, false);
      const got = await be.read(runGraph(tape, r.graph, new ParamStore(be, r.graph, r.host), tape.input(x, [2, 2, 6, 6])).output.value);
      tape.dispose();
      expect(got.length).toBe(want.length);
      expect(relError(got, want)).toBeLessThan(1e-5);
    });
  }
});

describe('refusals name the node and the reason', () => {
  const head: TinyModel['nodes'] = [{ opType: 'Conv', name: 'conv', input: ['input', 'w'], output: ['c'], attribute: [ints('pads', [1, 1, 1, 1])] }];
  const inits = [floatInit('w', [4, 2, 3, 3]), floatInit('wt', [4, 2, 2, 2])];
  const expectError = (nodes: TinyModel['nodes'], re: RegExp, node: string, op: string, extra: TinyModel['inits'] = []) => {
    let err: unknown;
    try {
      importOnnx(tinyModel({ nodes: [...head, ...nodes], inits: [...inits, ...extra] }), 'bad.onnx');
    } catch (e) {
      err = e;
    }
    expect(err).toBeInstanceOf(OnnxImportError);
    const e = err as OnnxImportError;
    expect(e.message).toMatch(re);
    expect(e.message).toContain('bad.onnx');
    expect(e.message).toContain(node);
    expect(e.message).toContain(op);
  };
  const f32Init = (name: string, v: number[]) => ({ name, dims: [v.length], dataType: 1, rawData: new Uint8Array(Float32Array.from(v).buffer) });
  const scales = f32Init('sc', [1, 1, 2, 2]);

  it('a cubic Resize', () => expectError([{ opType: 'Resize', name: 'rs', input: ['c', '', 'sc'], output: ['y'], attribute: [str('mode', 'cubic')] }],
    /mode "cubic" is not supported/, 'rs', 'Resize', [scales]));
  it('a Resize of the channels', () => expectError([{ opType: 'Resize', name: 'rs', input: ['c', '', 'sc2'], output: ['y'] }],
    /only H and W can be resized/, 'rs', 'Resize', [f32Init('sc2', [1, 2, 2, 2])]));
  it('a tf_crop_and_resize Resize', () => expectError([{ opType: 'Resize', name: 'rs', input: ['c', '', 'sc'], output: ['y'], attribute: [str('coordinate_transformation_mode', 'tf_crop_and_resize')] }],
    /coordinate_transformation_mode "tf_crop_and_resize" is not supported/, 'rs', 'Resize', [scales]));
  it('a ConvTranspose with output_shape', () => expectError([{ opType: 'ConvTranspose', name: 'ct', input: ['c', 'wt'], output: ['y'], attribute: [ints('output_shape', [8, 8])] }],
    /output_shape is not supported/, 'ct', 'ConvTranspose'));
  it('a ConvTranspose with asymmetric pads', () => expectError([{ opType: 'ConvTranspose', name: 'ct', input: ['c', 'wt'], output: ['y'], attribute: [ints('pads', [0, 0, 1, 1])] }],
    /pads \[0,0,1,1\] are not supported/, 'ct', 'ConvTranspose'));
  it('a ConvTranspose whose output_padding reaches the stride', () => expectError([{ opType: 'ConvTranspose', name: 'ct', input: ['c', 'wt'], output: ['y'], attribute: [ints('strides', [2, 2]), ints('output_padding', [2, 0])] }],
    /output_padding \[2,0\] must be two values below the strides \[2,2\]/, 'ct', 'ConvTranspose'));
  it('a ConvTranspose with auto_pad', () => expectError([{ opType: 'ConvTranspose', name: 'ct', input: ['c', 'wt'], output: ['y'], attribute: [str('auto_pad', 'SAME_UPPER'), int('group', 1)] }],
    /auto_pad SAME_UPPER is not supported/, 'ct', 'ConvTranspose'));
});
