/**
 * The shape operators through the whole flow, on torchvision's own ShuffleNetV2 blocks exported by PyTorch
 * (tests/fixtures/onnx/shuffle_split_{11,13,17}.onnx, scripts/make-onnx-fixtures.py): the channel shuffle
 * (Reshape/Transpose/Reshape over the batch), torch.chunk as Slice fed by Shape/Gather/Unsqueeze/Concat/Div
 * subgraphs (folded at import), torch.split as a 3-output Split, and a Concat of three inputs at different scales.
 *  - import at opsets 11, 13 and 17 vs onnxruntime-node within 1e-4 relative, on the CPU reference and on
 *    WebGPU, before and after fusion;
 *  - calibration, QAT steps (fake quant: the slices and the shuffle inherit their input's scale), convert, the
 *    simulator on the CPU and on the GPU (the same integers), every layer within 1 LSB of the fake-quant model;
 *  - the QDQ export runs in onnxruntime and agrees with the simulator;
 *  - the refusals of what is not supported name the node and the reason.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { ImageDataset } from '../src/data/dataset.ts';
import { iterateBatches } from '../src/data/loader.ts';
import { Optimizer } from '../src/engine/optim/optimizer.ts';
import { createCpuBackend } from '../src/engine/reference/cpu-backend.ts';
import { fuse } from '../src/graph/passes/fuse.ts';
import { fusionReport } from '../src/graph/passes/check.ts';
import { importOnnx, OnnxImportError, type OnnxImportResult } from '../src/io/onnx/import.ts';
import { exportQdqOnnx } from '../src/io/onnx/export-qdq.ts';
import { ParamStore } from '../src/nn/params.ts';
import { calibrate } from '../src/quant/calibrate.ts';
import { convertQuantizedModel, type IntModel } from '../src/quant/convert.ts';
import { deployCheck } from '../src/quant/deploy-check.ts';
import { prepare } from '../src/quant/prepare.ts';
import { qconfigTemplate } from '../src/quant/qconfig.ts';
import { QuantizedModel } from '../src/quant/quantized-model.ts';
import { decodeModelFile, encodeModelFile } from '../src/sim/model-file.ts';
import { execLayer, runIntModel, type IntTensor } from '../src/sim/run.ts';
import { Tape } from '../src/engine/autograd.ts';
import { runGraph } from '../src/nn/executor.ts';
import { releaseGpuModel, runIntModelGpu } from '../src/sim/run-gpu.ts';
import { intLayerDef } from '../src/sim/layers.ts';
import { trainStep } from '../src/train/trainer.ts';
import type { NodeProto } from '../src/io/onnx/proto.ts';
import { buildViewGraph } from '../src/ui/graph-view/graph-model.ts';
import { attributesOf } from '../src/ui/features/graph/node-facts.ts';
import { destroyTestBackend, getTestBackend } from './helpers/gpu.ts';
import { fixture, floatInit, int, int64Init, ints, randomInput, relError, runOrt, runOurs, tinyModel, type TinyModel } from './helpers/onnx.ts';
import { mulberry32 } from './helpers/random.ts';

afterAll(destroyTestBackend);

const OPSETS = [11, 13, 17] as const;
const prod = (s: number[]) => s.reduce((a, b) => a * b, 1);
const ops = (r: OnnxImportResult) => r.graph.nodes.map((n) => n.op);

/** Smooth random 3x16x16 images (blobs and noise), labels by image index. */
function images(n: number, seed: number): ImageDataset {
  const r = mulberry32(seed);
  const px = new Uint8Array(n * 3 * 256);
  for (let i = 0; i < n; i++) {
    for (let c = 0; c < 3; c++) {
      const cx = 3 + r() * 10, cy = 3 + r() * 10, rad = 2 + r() * 6, amp = 80 + r() * 175;
      for (let y = 0; y < 16; y++) for (let x = 0; x < 16; x++) {
        const d = Math.hypot(x - cx, y - cy);
        px[((i * 3 + c) * 16 + y) * 16 + x] = Math.min(255, Math.round(amp * Math.exp(-(d * d) / (rad * rad)) + r() * 40));
      }
    }
  }
  return { name: 'synthetic', count: n, channels: 3, height: 16, width: 16, numClasses: 7, classNames: [], images: px, labels: Uint8Array.from({ length: n }, (_, i) => i % 7) };
}

describe('import: ShuffleNetV2 blocks, chunk, split and concat vs onnxruntime-node', () => {
  for (const opset of OPSETS) {
    it(`opset ${opset}: one channel_shuffle per block, slices, a 3-input concat; CPU reference within 1e-4 before and after fusion`, async () => {
      const bytes = fixture(`shuffle_split_${opset}`);
      const r = importOnnx(bytes, `shuffle_split_${opset}.onnx`);
      expect(r.opset).toBe(opset);
      const o = ops(r);
      expect(o.filter((t) => t === 'channel_shuffle')).toHaveLength(2);
      expect(o.filter((t) => t === 'slice')).toHaveLength(2 + 3); // chunk of the stride-1 block, split into 3
      expect(o.filter((t) => t === 'reshape')).toHaveLength(0); // the views around the shuffle fold away
      expect(r.graph.nodes.find((n) => n.op === 'channel_shuffle')!.attrs.groups).toBe(2);
      const cat3 = r.graph.nodes.filter((n) => n.op === 'concat' && n.inputs.length === 3);
      expect(cat3).toHaveLength(1);
      const N = 3, shape = [N, ...r.inputShape];
      for (const seed of [1, 2]) {
        const x = randomInput(N * prod(r.inputShape), seed);
        const want = await runOrt(bytes, x, shape);
        const be = createCpuBackend();
        expect(relError(await runOurs(be, r.graph, r.host, x, shape), want)).toBeLessThan(1e-4);
        const f = fuse(r.graph, r.host);
        expect(relError(await runOurs(be, f.graph, f.host, x, shape), want)).toBeLessThan(1e-4);
        expect(be.liveTensors()).toBe(0);
        // every op fuses or stays integer: nothing float between the stubs
        const report = fusionReport(f.graph);
        expect(report.unfused).toEqual([]);
        expect(report.float).toEqual([]);
      }
    });
  }

  it('a fixed batch of 1 (the exporter folded the batch into the Reshape targets): the same graph, within 1e-4', async () => {
    const bytes = fixture('shuffle_split_static');
    const r = importOnnx(bytes, 'shuffle_split_static.onnx');
    expect(ops(r)).toEqual(ops(importOnnx(fixture('shuffle_split_13'), 'shuffle_split_13.onnx')));
    const x = randomInput(prod(r.inputShape), 4);
    const want = await runOrt(bytes, x, [1, ...r.inputShape]);
    expect(relError(await runOurs(createCpuBackend(), r.graph, r.host, x, [1, ...r.inputShape]), want)).toBeLessThan(1e-4);
  });

  it('opset 13 on WebGPU: within 1e-4 of onnxruntime before and after fusion', async () => {
    const bytes = fixture('shuffle_split_13');
    const r = importOnnx(bytes, 'shuffle_split_13.onnx');
    const be = await getTestBackend();
    const live0 = be.liveTensors();
    const N = 4, shape = [N, ...r.inputShape];
    const x = randomInput(N * prod(r.inputShape), 5);
    const want = await runOrt(bytes, x, shape);
    expect(relError(await runOurs(be, r.graph, r.host, x, shape), want)).toBeLessThan(1e-4);
    const f = fuse(r.graph, r.host);
    expect(relError(await runOurs(be, f.graph, f.host, x, shape), want)).toBeLessThan(1e-4);
    expect(be.liveTensors()).toBe(live0);
  });
});

describe('quantized: calibration, QAT, convert, simulator (CPU and GPU), QDQ export', () => {
  let qm: QuantizedModel;
  let im: IntModel;
  let r: OnnxImportResult;
  const calib = images(32, 1), test = images(48, 2);

  beforeAll(async () => {
    r = importOnnx(fixture('shuffle_split_13'), 'shuffle_split_13.onnx');
    const f = fuse(r.graph, r.host);
    const be = createCpuBackend();
    qm = new QuantizedModel(be, prepare(f.graph, qconfigTemplate('default_calibration', { march: 'bayes' })), new ParamStore(be, f.graph, f.host));
    await calibrate(qm, calib, { batchSize: 32, normalize: r.normalization });
    // a few QAT steps: gradients flow back through the slices, the shuffle and the concat
    qm.setState('QAT');
    const opt = new Optimizer(be, [...qm.store.vars.values()], { name: 'sgd', lr: 0.01, momentum: 0.9 });
    const losses: number[] = [];
    for (const b of iterateBatches(calib, 16, 0, 0, { normalize: r.normalization })) {
      losses.push(await trainStep(be, qm.plan.graph, qm.store, opt, b.x, b.shape, b.labels, true, qm.hooks));
    }
    expect(losses.every(Number.isFinite)).toBe(true);
    qm.setState('VALIDATION');
    im = await convertQuantizedModel(qm);
  });

  afterAll(() => {
    qm.store.dispose();
    qm.dispose();
  });

  it('slices and shuffles have no fake quant of their own; the concat requantizes three different scales', () => {
    const plan = qm.plan;
    const moving = plan.graph.nodes.filter((n) => n.op === 'slice' || n.op === 'channel_shuffle');
    expect(moving.length).toBe(7);
    for (const n of moving) expect(qm.acts.has(n.id), n.id).toBe(false);
    const gathers = im.layers.filter((l) => l.op === 'gather_channels');
    expect(gathers).toHaveLength(7);
    // each keeps its input's integer domain
    for (const l of gathers) expect(im.values[l.id].scales).toEqual(im.values[l.inputs[0]].scales);
    const cat = im.layers.find((l) => l.op === 'rescale' && l.kind === 'concat' && l.inputs.length === 3);
    expect(cat).toBeDefined();
    const scales = cat!.inputs.map((i) => im.values[i].scales[0]);
    expect(new Set(scales).size).toBe(3);
    expect(scales).not.toContain(im.values[cat!.id].scales[0]);
  });

  it('every layer fed the fake-quant model\'s own inputs is within 1 LSB of it (slices and shuffles exact)', async () => {
    const n = 8;
    const x = [...iterateBatches(test, n, 0, 0, { shuffle: false, normalize: r.normalization })][0].x;
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
      const data = new Int8Array(v.length);
      for (let i = 0; i < v.length; i++) data[i] = Math.round(v[i] / info.scales[0]);
      return { data, shape: [n, ...info.shape] };
    };
    const worst = new Map<string, number>();
    for (const layer of im.layers) {
      const info = im.values[layer.id];
      if (layer.op === 'quantize' || layer.op === 'dequantize' || info.dtype !== 'int8') continue;
      const got = execLayer(im, layer, layer.inputs.map(toInt));
      const ref = vals.get(layer.id)!;
      let max = 0;
      for (let i = 0; i < ref.length; i++) max = Math.max(max, Math.abs(Math.round(ref[i] / info.scales[0]) - got.data[i]));
      worst.set(layer.id, max);
      if (layer.op === 'gather_channels') expect(max, layer.id).toBe(0);
    }
    expect([...worst.keys()].filter((id) => im.layers.find((l) => l.id === id)!.op === 'gather_channels')).toHaveLength(7);
    for (const [id, m] of worst) expect(m, `layer ${id}: ${m} LSB`).toBeLessThanOrEqual(1);
  });

  it('end to end: top-1 agreement with the fake-quant model, every int8 layer within 2 LSB; the model file round-trips', async () => {
    const file = decodeModelFile(encodeModelFile(im), 'shuffle.qsbin');
    const res = await deployCheck(qm, file, test, async (x, n, dump) => runIntModel(file, x, n, { dump }), { normalize: r.normalization });
    const int8 = res.layers.filter((l) => l.dtype === 'int8');
    expect(int8.length).toBeGreaterThan(10);
    for (const l of int8) expect(l.max_lsb, l.name).toBeLessThanOrEqual(2);
    expect(res.agreement_top1).toBeGreaterThanOrEqual(95);
  });

  it('the GPU simulator computes the same integers as the CPU simulator', async () => {
    const n = 6;
    const x = [...iterateBatches(test, n, 0, 0, { shuffle: false, normalize: r.normalization })][0].x;
    const cpu = runIntModel(im, x, n, { dump: true });
    const { ctx } = await getTestBackend();
    const gpu = await runIntModelGpu(im, x, n, ctx, { dump: true });
    for (const [id, t] of cpu.dumps) {
      expect(gpu.dumps.get(id)!.shape, id).toEqual(t.shape);
      expect(Array.from(gpu.dumps.get(id)!.data), id).toEqual(Array.from(t.data));
    }
    expect(Array.from(gpu.output)).toEqual(Array.from(cpu.output));
    releaseGpuModel(im, ctx);
  });

  it('a gather_channels layer with a bad index is refused by the model file check and the simulator', () => {
    const l = im.layers.find((x) => x.op === 'gather_channels')!;
    const fail = (reason: string): never => { throw new Error(reason); };
    expect(() => intLayerDef(l).validate({ ...l, index: [0, -1] } as typeof l, fail)).toThrow(/non-empty list of channel indices/);
    expect(() => intLayerDef(l).validate({ ...l, index: [] } as typeof l, fail)).toThrow(/non-empty list/);
    const C = im.values[l.inputs[0]].shape[0];
    const x: IntTensor = { data: new Int8Array(2 * C * 64), shape: [2, C, 8, 8] };
    expect(() => execLayer(im, { ...l, index: [C] } as typeof l, [x])).toThrow(/channel index outside the input's/);
  });

  it('the viewer labels them and shows their attributes; they carry their input\'s int8 dtype', () => {
    const g = qm.plan.graph;
    const v = buildViewGraph(g, qm.plan);
    const shuffle = v.nodes.find((n) => n.op === 'channel_shuffle')!;
    expect(shuffle.detail).toBe('ChannelShuffle g2');
    expect(shuffle.dtype).toBe('int8');
    const split = g.nodes.filter((n) => n.op === 'slice').map((n) => v.nodes.find((x) => x.id === n.id)!.detail);
    expect(split).toEqual(expect.arrayContaining(['Slice channels 0:4', 'Slice channels 4:16', 'Slice channels 16:24']));
    const sl = g.nodes.find((n) => n.op === 'slice' && n.attrs.slice!.start === 4)!;
    expect(attributesOf(sl, g)).toContainEqual({ key: 'channels', value: '4 to 15' });
    expect(attributesOf(g.nodes.find((n) => n.op === 'channel_shuffle')!, g)).toContainEqual({ key: 'shuffle groups', value: '2' });
  });

  it('the QDQ export runs in onnxruntime and agrees with the simulator', async () => {
    const bytes = await exportQdqOnnx(qm);
    const n = test.count;
    const x = [...iterateBatches(test, n, 0, 0, { shuffle: false, normalize: r.normalization })][0].x;
    const ort = await runOrt(bytes, x, [n, ...r.inputShape]);
    const sim = runIntModel(im, x, n).output;
    const K = im.numClasses;
    let agree = 0;
    for (let i = 0; i < n; i++) {
      const am = (a: Float32Array) => { let b = 0; for (let k = 1; k < K; k++) if (a[i * K + k] > a[i * K + b]) b = k; return b; };
      if (am(ort) === am(sim)) agree++;
    }
    expect(agree / n).toBeGreaterThanOrEqual(0.95);
    expect(relError(ort, sim)).toBeLessThan(0.05);
  });
});

describe('refusals name the node and the reason', () => {
  const conv = (out: string): NodeProto => ({ opType: 'Conv', name: 'conv', input: ['input', 'w'], output: [out], attribute: [ints('pads', [1, 1, 1, 1])] });
  const tail = (from: string, c: number): TinyModel['nodes'] => [
    { opType: 'GlobalAveragePool', name: 'gap', input: [from], output: ['p'] },
    { opType: 'Flatten', name: 'flat', input: ['p'], output: ['f'] },
    { opType: 'Gemm', name: 'fc', input: ['f', `fw${c}`, 'fb'], output: ['y'], attribute: [int('transB', 1)] },
  ];
  const inits = [floatInit('w', [4, 2, 3, 3]), floatInit('fw4', [3, 4]), floatInit('fw2', [3, 2]), floatInit('fw1', [3, 1]), floatInit('fb', [3])];
  const expectError = (m: TinyModel, re: RegExp, node: string, op: string) => {
    let err: unknown;
    try {
      importOnnx(tinyModel({ ...m, inits: [...inits, ...(m.inits ?? [])] }), 'bad.onnx');
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

  // (a Transpose of the per-sample axes is a transpose node since issue 14: tests/onnx-transformer.test.ts)
  it('a Transpose that moves the batch', () => expectError({
    nodes: [conv('c'), { opType: 'Transpose', name: 'tr', input: ['c'], output: ['t'], attribute: [ints('perm', [1, 0, 2, 3])] }, ...tail('t', 4)],
  }, /Transpose with perm \[1,0,2,3\] moves the batch dimension/, 'tr', 'Transpose'));

  it('a Slice over the spatial axes', () => expectError({
    nodes: [conv('c'), { opType: 'Slice', name: 'sl', input: ['c', 's0', 's1', 'ax'], output: ['t'] }, ...tail('t', 4)],
    inits: [int64Init('s0', [1]), int64Init('s1', [3]), int64Init('ax', [2])],
  }, /Slice on axis 2 is not supported \(only channels, axis 1\)/, 'sl', 'Slice'));

  it('a Split over the batch', () => expectError({
    nodes: [conv('c'), { opType: 'Split', name: 'sp', input: ['c'], output: ['a', 'b'], attribute: [int('axis', 0)] }, ...tail('a', 4)],
  }, /Split on axis 0 is not supported/, 'sp', 'Split'));

  it('a Split whose sizes do not add up', () => expectError({
    nodes: [conv('c'), { opType: 'Split', name: 'sp', input: ['c', 'sz'], output: ['a', 'b'], attribute: [int('axis', 1)] }, ...tail('a', 1)],
    inits: [int64Init('sz', [1, 2])],
  }, /Split sizes \[1,2\] do not add up to 4 channels/, 'sp', 'Split'));

  it('a Gather of a computed tensor at indices that are not a run', () => expectError({
    nodes: [conv('c'), { opType: 'Gather', name: 'ga', input: ['c', 'ix'], output: ['t'], attribute: [int('axis', 1)] }, ...tail('t', 2)],
    inits: [int64Init('ix', [0, 2])],
  }, /Gather of indices \[0,2\] is not supported \(only one index or a run of consecutive ones\)/, 'ga', 'Gather'));

  it('arithmetic on the batch size', () => expectError({
    nodes: [
      conv('c'),
      { opType: 'Shape', name: 'sh', input: ['c'], output: ['s'] },
      { opType: 'Mul', name: 'twice', input: ['s', 'two'], output: ['s2'] },
      { opType: 'Reshape', name: 'rs', input: ['c', 's2'], output: ['t'] },
      ...tail('t', 4),
    ],
    inits: [int64Init('two', [2])],
  }, /depends on the batch size/, 'twice', 'Mul'));

  it('a folded Shape -> Gather -> Unsqueeze -> Concat Reshape target keeps the batch (split into groups and back)', async () => {
    const m: TinyModel = {
      nodes: [
        conv('c'),
        { opType: 'Shape', name: 'sh', input: ['c'], output: ['s'] },
        { opType: 'Gather', name: 'g0', input: ['s', 'i0'], output: ['n'], attribute: [int('axis', 0)] },
        { opType: 'Unsqueeze', name: 'u0', input: ['n', 'ax0'], output: ['n1'] },
        { opType: 'Concat', name: 'cat', input: ['n1', 'grp'], output: ['tgt'], attribute: [int('axis', 0)] },
        { opType: 'Reshape', name: 'rs', input: ['c', 'tgt'], output: ['r5'] },
        { opType: 'Transpose', name: 'tr', input: ['r5'], output: ['t5'], attribute: [ints('perm', [0, 2, 1, 3, 4])] },
        { opType: 'Reshape', name: 'back', input: ['t5', 'flat4'], output: ['t'] },
        ...tail('t', 4),
      ],
      inits: [...inits, { ...int64Init('i0', [0]), dims: [] }, int64Init('ax0', [0]), int64Init('grp', [2, 2, 6, 6]), int64Init('flat4', [0, 4, 6, 6])],
    };
    const bytes = tinyModel(m);
    const r = importOnnx(bytes, 'tiny.onnx');
    expect(ops(r)).toContain('channel_shuffle');
    const x = randomInput(2 * 72, 3);
    expect(relError(await runOurs(createCpuBackend(), r.graph, r.host, x, [2, 2, 6, 6]), await runOrt(bytes, x, [2, 2, 6, 6]))).toBeLessThan(1e-5);
  });
});
