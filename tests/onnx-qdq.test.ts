/**
 * ONNX QDQ export: the PyTorch-trained Fashion-MNIST CNN, imported, fused, calibrated
 * (default_calibration), exported with QuantizeLinear/DequantizeLinear pairs, run in
 * onnxruntime-node. Executed as written (graph optimizations off: Q/DQ in float, the format's meaning) its top-1
 * agrees with the fake-quant model (VALIDATION state, evaluate() with the hooks) and with the fixed-point simulator
 * on at least 99.5 % of 400 test images. With onnxruntime's optimizations on, it fuses the Q/DQ pairs into its own
 * integer kernels (QLinearConv, QLinearMatMul), whose requantization rounds differently from the simulator's
 * multiplier + shift; their agreement is printed and must stay at 98 % or more (measured: 99.0 % vs the simulator).
 * The file has a Q/DQ pair per activation site, int8 per-channel weights with axis 0 and int32 biases.
 * Adds: the export writes the simulator's integer add (multipliers, shift, round half up) in int64 ONNX ops; on the
 * residual (fused Conv+Add+ReLU), se_block (Sub of two activations) and activations (Add after Tanh) fixtures, each
 * add's integers in onnxruntime equal the simulator's fed the same integers, and every layer is within 1 LSB.
 * Concat: the export writes the simulator's rescale of each input whose scale differs from the output's (32-bit
 * multiplier, shift, round half up, clamp) in int64 ONNX ops; on shuffle_split (ShuffleNetV2 blocks and a three-input
 * concat) with Fashion-MNIST images, each concat's integers in onnxruntime equal the simulator's fed the same integers,
 * exact ties and negative ones included (march bernoulli; bayes with scales in ratios 3/2 and 5/4).
 */
import { beforeAll, describe, expect, it } from 'vitest';
import { createCpuBackend } from '../src/engine/reference/cpu-backend.ts';
import { randomSubset, type ImageDataset } from '../src/data/dataset.ts';
import { loadIdxFolder } from '../src/data/idx.ts';
import { normalizeImages } from '../src/data/loader.ts';
import { fuse } from '../src/graph/passes/fuse.ts';
import { importOnnx } from '../src/io/onnx/import.ts';
import { buildQdqOnnx, exportQdqOnnx, quantizeBiasInt32, snapshotQuantizedModel } from '../src/io/onnx/export-qdq.ts';
import { DataType, decodeModelProto, int64 } from '../src/io/onnx/proto.ts';
import { ParamStore } from '../src/nn/params.ts';
import { calibrate } from '../src/quant/calibrate.ts';
import { prepare } from '../src/quant/prepare.ts';
import { qconfigTemplate } from '../src/quant/qconfig.ts';
import { QuantizedModel } from '../src/quant/quantized-model.ts';
import { evaluate } from '../src/train/evaluate.ts';
import { convertQuantizedModel } from '../src/quant/convert.ts';
import { runIntModel } from '../src/sim/run.ts';
import { fixture, runOrt } from './helpers/onnx.ts';
import * as ort from 'onnxruntime-node';
import { emitMulShiftRound, emitRoundShift } from '../src/io/onnx/qdq-requant.ts';
import { encodeModelProto, type NodeProto, type TensorProto } from '../src/io/onnx/proto.ts';
import { attrInt } from '../src/io/onnx/attrs.ts';
import { mulShiftRound, roundShiftHalfUp } from '../src/sim/int/requant.ts';
import { addInt } from '../src/sim/int/add.ts';
import { execLayer, type IntTensor } from '../src/sim/run.ts';
import type { IntLayer, IntModel } from '../src/sim/model.ts';
import { mulberry32 } from './helpers/random.ts';
import { tintedPlanes } from '../scripts/fashion-as-cifar10.ts';

const argmax = (a: Float32Array, i: number, k: number) => {
  let b = 0;
  for (let j = 1; j < k; j++) if (a[i * k + j] > a[i * k + b]) b = j;
  return b;
};

let calibDs: ImageDataset, testDs: ImageDataset;

beforeAll(async () => {
  const d = await loadIdxFolder('/usr/share/datasets/fashion-mnist');
  calibDs = randomSubset(d.train, 64, 1);
  testDs = randomSubset(d.test, 400, 0);
});

async function quantized(template: string) {
  const r = importOnnx(fixture('fashion_cnn'), 'fashion_cnn.onnx');
  const f = fuse(r.graph, r.host);
  const be = createCpuBackend();
  const qm = new QuantizedModel(be, prepare(f.graph, qconfigTemplate(template)), new ParamStore(be, f.graph, f.host));
  await calibrate(qm, calibDs, { batchSize: 64, normalize: r.normalization });
  return { qm, r };
}

interface Agreement {
  /** onnxruntime (optimizations off) vs the fake-quant model, and vs the simulator. */
  agree: number; agreeSim: number;
  /** onnxruntime with its fused integer kernels vs the simulator. */
  agreeFused: number;
  fqAcc: number; ortAcc: number; bytes: Uint8Array; qm: QuantizedModel;
}

async function agreement(template: string, ds = testDs): Promise<Agreement> {
  const { qm, r } = await quantized(template);
  const K = qm.plan.graph.numClasses;
  const fq: number[] = [];
  const ev = await evaluate(qm.be, qm.plan.graph, qm.store, ds, {
    hooks: qm.hooks, normalize: r.normalization, batchSize: 200,
    onLogits: (l, _y, n) => { for (let i = 0; i < n; i++) fq.push(argmax(l, i, K)); },
  });
  const bytes = await exportQdqOnnx(qm);
  const x = normalizeImages(ds, r.normalization);
  const logits = await runOrt(bytes, x, [ds.count, ...r.inputShape], 'disabled');
  const fused = await runOrt(bytes, x, [ds.count, ...r.inputShape], 'all');
  const sim = runIntModel(await convertQuantizedModel(qm), x, ds.count).output!;
  let agree = 0, agreeSim = 0, agreeFused = 0, correct = 0;
  for (let i = 0; i < ds.count; i++) {
    const o = argmax(logits, i, K), s = argmax(sim, i, K);
    if (o === fq[i]) agree++;
    if (o === s) agreeSim++;
    if (argmax(fused, i, K) === s) agreeFused++;
    if (o === ds.labels![i]) correct++;
  }
  const n = ds.count;
  return { agree: agree / n, agreeSim: agreeSim / n, agreeFused: agreeFused / n, fqAcc: ev.acc1, ortAcc: (100 * correct) / n, bytes, qm };
}

const release = (qm: QuantizedModel) => {
  qm.store.dispose();
  qm.dispose();
};

describe('ONNX QDQ export', () => {
  it('int8 (default_calibration): onnxruntime top-1 agrees with the fake-quant model and the simulator on >= 99.5 % of 400 test images', async () => {
    const { agree, agreeSim, agreeFused, fqAcc, ortAcc, bytes, qm } = await agreement('default_calibration');
    const pc = (v: number) => `${(100 * v).toFixed(2)} %`;
    console.log(`QDQ int8: onnxruntime vs fake quant ${pc(agree)}, vs simulator ${pc(agreeSim)}; fused integer kernels vs simulator ${pc(agreeFused)}; fake-quant acc ${fqAcc.toFixed(2)}, onnxruntime acc ${ortAcc.toFixed(2)}, ${bytes.length} bytes`);
    expect(agree).toBeGreaterThanOrEqual(0.995);
    expect(agreeSim).toBeGreaterThanOrEqual(0.995);
    expect(agreeFused).toBeGreaterThanOrEqual(0.98);
    expect(fqAcc).toBeGreaterThan(80);

    // Structure: one Q/DQ pair per activation site, per-channel int8 weights (axis 0), int32 biases.
    const m = decodeModelProto(bytes);
    expect(int64(m.opsetImport![0].version)).toBe(13);
    const g = m.graph!;
    const nodes = g.node!;
    expect(nodes.filter((n) => n.opType === 'QuantizeLinear').length).toBe(qm.plan.acts.length);
    const inits = new Map(g.initializer!.map((t) => [t.name!, t]));
    const weightDq = nodes.filter((n) => n.opType === 'DequantizeLinear' && inits.get(n.input![0])?.dataType === DataType.INT8 && (inits.get(n.input![0])!.dims ?? []).length >= 2);
    expect(weightDq.length).toBe(qm.plan.weights.length);
    for (const n of weightDq) {
      expect(n.attribute!.find((a) => a.name === 'axis') && int64(n.attribute!.find((a) => a.name === 'axis')!.i)).toBe(0);
      const w = inits.get(n.input![0])!;
      expect(int64(inits.get(n.input![1])!.dims![0])).toBe(int64(w.dims![0]));
    }
    const biasDq = nodes.filter((n) => n.opType === 'DequantizeLinear' && inits.get(n.input![0])?.dataType === DataType.INT32);
    expect(biasDq.length).toBe(qm.plan.weights.length);
    expect(g.input![0].name).toBe('input');
    expect(g.output![0].name).toBe('logits');
    expect(nodes.some((n) => n.opType === 'BatchNormalization')).toBe(false);

    // The snapshot covers every site, and the build is deterministic.
    const snap = await snapshotQuantizedModel(qm);
    expect(Object.keys(snap.activations).sort()).toEqual(qm.plan.acts.map((a) => a.node).sort());
    expect(buildQdqOnnx(snap)).toEqual(bytes);
    release(qm);
  });

  it('int16 activations (default_calibration_int16) export at opset 21 and agree on >= 99 % of 200 images', async () => {
    const { agree, agreeSim, bytes, qm } = await agreement('default_calibration_int16', randomSubset(testDs, 200, 5));
    expect(int64(decodeModelProto(bytes).opsetImport![0].version)).toBe(21);
    expect(agree).toBeGreaterThanOrEqual(0.99);
    expect(agreeSim).toBeGreaterThanOrEqual(0.99);
    release(qm);
  });

  it('bias quantization rounds half to even and saturates', () => {
    const { q, scales } = quantizeBiasInt32(Float32Array.of(0.25, -0.75, 1e12), 0.5, Float32Array.of(1, 1, 1));
    expect(Array.from(scales)).toEqual([0.5, 0.5, 0.5]);
    expect(Array.from(q)).toEqual([0, -2, 2147483647]);
  });
});

/** Fashion-MNIST test images tinted to 3x32x32 (scripts/fashion-as-cifar10.ts) and averaged 2x2 to 3x16x16: real images at the fixture's size. */
function fashion16(ds: ImageDataset): ImageDataset {
  const out = new Uint8Array(ds.count * 3 * 16 * 16);
  for (let i = 0; i < ds.count; i++) {
    const p = tintedPlanes(ds.images.subarray(i * 784, (i + 1) * 784));
    for (let c = 0; c < 3; c++) for (let y = 0; y < 16; y++) for (let x = 0; x < 16; x++) {
      const at = (dy: number, dx: number) => p[c * 1024 + (2 * y + dy) * 32 + 2 * x + dx];
      out[((i * 3 + c) * 16 + y) * 16 + x] = Math.round((at(0, 0) + at(0, 1) + at(1, 0) + at(1, 1)) / 4);
    }
  }
  return { ...ds, name: 'fashion 3x16x16', channels: 3, height: 16, width: 16, images: out };
}

/** Round half to even: what onnxruntime's QuantizeLinear does to the float rescale DequantizeLinear -> Concat -> QuantizeLinear computes. */
const halfEven = (v: number) => {
  const r = Math.round(v);
  return r - v === 0.5 && r % 2 !== 0 ? r - 1 : r;
};

describe('QDQ export: concat as the simulator computes it', () => {
  // shuffle_split: torchvision's ShuffleNetV2 blocks (a concat of the identity half and the branch, and of two branches)
  // and a concat of three inputs at different scales; bernoulli's power-of-two scales make exact ties (x / 2^k, x odd)
  // and on bayes with fixed scales at the three-input concat: inputs at 3/1024 and 5/2048, output 1/512 (ratios 3/2 and
  // 5/4: 32-bit multipliers 3·2^29 and 5·2^28, exact ties at odd / even values; saturation at the output's range)
  const cases = [
    { name: 'bayes', march: 'bayes', fixed: false },
    { name: 'bernoulli', march: 'bernoulli', fixed: false },
    { name: 'bayes, concat scales in ratios 3/2 and 5/4', march: 'bayes', fixed: true },
  ] as const;
  for (const { name: caseName, march, fixed } of cases) {
    it(`shuffle_split, march ${caseName}: every concat's integers in onnxruntime equal the simulator's rescale of the same inputs (ties, negatives); the whole model agrees`, async () => {
      const r = importOnnx(fixture('shuffle_split_13'), 'shuffle_split_13.onnx');
      const f = fuse(r.graph, r.host);
      const be = createCpuBackend();
      const fixedAt = (match: string, scale: number) => ({ match, activation: { observer: 'fixed_scale' as const, fixedScale: scale, averagingConstant: 0 } });
      const last = f.graph.nodes.find((d) => d.id === 'Concat')!;
      const overrides = fixed ? [fixedAt(last.inputs[0], 3 / 1024), fixedAt(last.inputs[1], 5 / 2048), fixedAt(last.id, 1 / 512)] : [];
      const qm = new QuantizedModel(be, prepare(f.graph, qconfigTemplate('default_calibration', { march, overrides })), new ParamStore(be, f.graph, f.host));
      await calibrate(qm, fashion16(calibDs), { batchSize: 64, normalize: r.normalization });
      qm.setState('VALIDATION');
      const im: IntModel = await convertQuantizedModel(qm);
      const bytes = await exportQdqOnnx(qm);
      const ds = fashion16(randomSubset(testDs, 64, 2));
      const n = ds.count, x = normalizeImages(ds, r.normalization);
      const sim = runIntModel(im, x, n, { dump: true });
      const concats = im.layers.filter((l): l is Extract<IntLayer, { op: 'rescale' }> => l.op === 'rescale' && l.kind === 'concat');
      expect(concats.length, 'shuffle_split has concats').toBeGreaterThanOrEqual(3);
      // each concat input as onnxruntime has it: the integers a rescaled input's Cast reads, or the float value an
      // input at the output's scale passes through (on its input's grid: its integers are value / scale)
      const nodes = decodeModelProto(bytes).graph!.node!;
      const producer = (out: string) => nodes.find((d) => d.output![0] === out)!;
      const inputValue = (l: IntLayer, k: number) => {
        const v = producer(`${l.id}.concat`).input![k];
        return v === `${l.id}.in${k}.dq` ? { name: producer(`${l.id}.in${k}.i64`).input![0], scale: 1 } : { name: v, scale: im.values[l.inputs[k]].scales[0] };
      };
      const inputs = concats.flatMap((l) => l.inputs.map((_, k) => inputValue(l, k)));
      const ortv = await ortValues(bytes, [...new Set([...concats.map((l) => `${l.id}.q`), ...inputs.map((v) => v.name), 'logits'])], x, [n, ...r.inputShape]);
      const ortInt = (id: string) => asInt(ortv.get(`${id}.q`)!, sim.dumps.get(id)!);
      let rescaled = 0, ties = 0, negTies = 0, halfEvenApart = 0, passed = 0, clamped = 0;
      for (const l of concats) {
        const ins = l.inputs.map((id, k) => {
          const v = inputValue(l, k);
          if (v.scale !== 1) passed++;
          return asInt(ortv.get(v.name)!.map((e) => Math.round(e / v.scale)), sim.dumps.get(id)!);
        });
        // the simulator's layer fed onnxruntime's input integers gives onnxruntime's output integers: 0 apart
        const want = execLayer(im, l, ins).data, got = ortInt(l.id).data;
        expect(Array.from(got), `${l.id}: concat integers`).toEqual(Array.from(want));
        // what the values exercise: inputs rescaled, exact ties x·m / 2^s = k + 1/2 (negative ones too), and values
        // where round half to even of the exact ratio (the float DequantizeLinear -> Concat -> QuantizeLinear) parts
        l.inputs.forEach((id, k) => {
          const m = l.requant[k].multiplier[0], s = l.requant[k].shift[0];
          if (m === 2 ** s) return;
          const ratio = im.values[id].scales[0] / im.values[l.id].scales[0];
          for (const q of ins[k].data) {
            rescaled++;
            const p = q * m / 2 ** s;
            if (p - Math.floor(p) === 0.5) { ties++; if (p < 0) negTies++; }
            const v = mulShiftRound(q, m, s);
            if (halfEven(q * ratio) !== v) halfEvenApart++;
            if (v < l.clamp.lo || v > l.clamp.hi) clamped++;
          }
        });
      }
      console.log(`shuffle_split ${caseName}: ${concats.length} concats, ${passed} inputs passed through, ${rescaled} rescaled values, ${ties} exact ties (${negTies} negative), ${halfEvenApart} where half to even parts, ${clamped} saturated`);
      expect(rescaled).toBeGreaterThan(0);
      expect(passed, 'inputs at the output\'s scale').toBeGreaterThan(0);
      if (fixed) expect(clamped, 'values saturated at the output range').toBeGreaterThan(0);
      if (march === 'bernoulli' || fixed) {
        expect(negTies, 'negative ties').toBeGreaterThan(0);
        expect(ties - negTies, 'positive ties').toBeGreaterThan(0);
        expect(halfEvenApart, 'values where the float rescale would round apart').toBeGreaterThan(0);
      }
      // the whole model: every concat's integers end to end (onnxruntime fed its own values) and the top-1
      for (const l of concats) {
        const a = ortInt(l.id).data, b = sim.dumps.get(l.id)!.data;
        let apart = 0;
        for (let i = 0; i < a.length; i++) if (a[i] !== b[i]) apart++;
        console.log(`  ${l.id}: ${apart} of ${a.length} values apart end to end`);
      }
      const K = qm.plan.graph.numClasses;
      let agree = 0;
      for (let i = 0; i < n; i++) if (argmax(Float32Array.from(ortv.get('logits')!), i, K) === argmax(sim.output!, i, K)) agree++;
      console.log(`shuffle_split ${caseName}: top-1 onnxruntime vs simulator ${agree} / ${n}`);
      expect(agree / n).toBeGreaterThanOrEqual(0.98);
      qm.store.dispose();
      qm.dispose();
    });
  }
});

/** A one-input int64 model built with the export's integer writers (qdq-requant.ts), run in onnxruntime-node. */
async function runIntOps(x: bigint[], dims: number[], write: (c: { emit: (op: string, ins: string[], suffix: string) => string; constI: (b: string, d: number[], v: ArrayLike<number>, t: number) => string }, x: string) => string): Promise<number[]> {
  const nodes: NodeProto[] = [], inits: TensorProto[] = [];
  const c = {
    emit: (op: string, ins: string[], suffix: string, attrs = [] as ReturnType<typeof attrInt>[]) => {
      nodes.push({ opType: op, input: ins, output: [suffix], name: suffix, attribute: attrs });
      return suffix;
    },
    constI: (b: string, d: number[], v: ArrayLike<number>, t: number) => {
      expect(t).toBe(DataType.INT64);
      inits.push({ name: b, dims: d, dataType: t, rawData: new Uint8Array(BigInt64Array.from(Array.from(v, (e) => BigInt(e))).buffer) });
      return b;
    },
  };
  const y = write(c, 'x');
  nodes.push({ opType: 'Identity', input: [y], output: ['y'], name: 'out' });
  const i64 = { tensorType: { elemType: DataType.INT64, shape: { dim: dims.map((d) => ({ dimValue: d })) } } };
  const bytes = encodeModelProto({
    irVersion: 7, opsetImport: [{ domain: '', version: 13 }], producerName: 'test',
    graph: { name: 'int_ops', node: nodes, initializer: inits, input: [{ name: 'x', type: i64 }], output: [{ name: 'y', type: i64 }] },
  });
  const s = await ort.InferenceSession.create(bytes, { graphOptimizationLevel: 'disabled' });
  const out = await s.run({ x: new ort.Tensor('int64', BigInt64Array.from(x), dims) });
  await s.release();
  return Array.from(out.y.data as BigInt64Array, Number);
}

/** The named values of a QDQ export in onnxruntime-node (optimizations off), as numbers. */
async function ortValues(bytes: Uint8Array, names: string[], x: Float32Array, shape: number[]): Promise<Map<string, Float64Array>> {
  const m = decodeModelProto(bytes);
  const have = new Set(m.graph!.node!.flatMap((n) => n.output!));
  for (const n of names) {
    expect(have.has(n), `the export has a value ${n}`).toBe(true);
    m.graph!.output!.push({ name: n });
  }
  const s = await ort.InferenceSession.create(encodeModelProto(m), { graphOptimizationLevel: 'disabled', intraOpNumThreads: 1 });
  const out = await s.run({ [s.inputNames[0]]: new ort.Tensor('float32', x, shape) });
  await s.release();
  return new Map(names.map((n) => [n, Float64Array.from(out[n].data as ArrayLike<number>, Number)]));
}

const asInt = (v: Float64Array, like: IntTensor): IntTensor => {
  const data = new (like.data.constructor as new (n: number) => IntTensor['data'])(v.length);
  data.set(v);
  return { data, shape: like.shape };
};

describe('QDQ export: adds as the simulator computes them', () => {
  it('round half up of x·m / 2^s in int64 ONNX ops equals the simulator\'s mulShiftRound and roundShiftHalfUp (ties, negatives, per channel)', async () => {
    const r = mulberry32(3);
    const xs: number[] = [];
    for (const v of [0, 1, -1, 2, -2, 3, -3, 32767, -32768, 127, -128, 96, -96, 32, -32]) xs.push(v);
    while (xs.length < 64) xs.push(Math.floor(r() * 65536) - 32768);
    // per tensor: ties at every shift (x · m / 2^s = k + 0.5 for m = 2^(s-1) and odd x)
    for (const [m, s] of [[1, 0], [1, 1], [3, 2], [2 ** 30 + 12345, 40], [2 ** 31 - 1, 48], [32768, 16], [5, 63]] as const) {
      const got = await runIntOps(xs.map(BigInt), [xs.length], (c, x) => emitMulShiftRound(c, 't', x, [m], [s], 1, 'r'));
      expect(got, `m ${m} s ${s}`).toEqual(xs.map((v) => mulShiftRound(v, m, s)));
    }
    // per channel along axis 1 of [2, 4, 2, 4]
    const ms = [1, 7, 2 ** 31 - 1, 3], ss = [1, 3, 50, 0], shape = [2, 4, 2, 4];
    const x4 = Array.from({ length: 64 }, (_, i) => xs[i]);
    const got = await runIntOps(x4.map(BigInt), shape, (c, x) => emitMulShiftRound(c, 't', x, ms, ss, 4, 'r'));
    expect(got).toEqual(x4.map((v, i) => mulShiftRound(v, ms[Math.floor(i / 8) % 4], ss[Math.floor(i / 8) % 4])));
    // the add's accumulator ma·a + mb·b (|v| < 2^31) at shifts 0..20
    const acc = xs.map((v, i) => v * 30000 + (i % 7) - 3);
    for (const s of [0, 1, 14, 20]) {
      expect(await runIntOps(acc.map(BigInt), [acc.length], (c, x) => emitRoundShift(c, 't', x, [s], 0, 'r'))).toEqual(acc.map((v) => roundShiftHalfUp(v, s)));
    }
  });

  // bernoulli: power-of-two scales, so many exact ties (onnxruntime's QuantizeLinear rounds them to even, the simulator up)
  for (const [name, march] of [['residual', 'bayes'], ['se_block', 'bayes'], ['activations', 'bayes'], ['residual', 'bernoulli'], ['se_block', 'bernoulli'], ['activations', 'bernoulli']] as const) {
    it(`${name}, march ${march}: every add's integers in onnxruntime equal the simulator's on the same inputs; every layer within 1 LSB`, async () => {
      const r = importOnnx(fixture(name), `${name}.onnx`);
      const f = fuse(r.graph, r.host);
      const be = createCpuBackend();
      // min/max observer: the scales' values do not matter here, only that the simulator and the export share them
      const qm = new QuantizedModel(be, prepare(f.graph, qconfigTemplate('default_calibration', { observer: 'minmax', march })), new ParamStore(be, f.graph, f.host));
      const [C, H, W] = r.inputShape;
      const n = 8, rnd = mulberry32(7);
      const images = Uint8Array.from({ length: n * C * H * W }, () => Math.floor(rnd() * 256));
      const ds: ImageDataset = { name: 'synthetic', count: n, channels: C, height: H, width: W, numClasses: 10, classNames: [], images, labels: new Uint8Array(n) };
      await calibrate(qm, ds, { batchSize: n, normalize: r.normalization });
      qm.setState('VALIDATION');
      const im: IntModel = await convertQuantizedModel(qm);
      const bytes = await exportQdqOnnx(qm);
      const x = normalizeImages(ds, r.normalization);
      const sim = runIntModel(im, x, n, { dump: true });
      const adds = im.layers.filter((l) => l.op === 'add' || (l.op === 'conv2d' && l.addRescale));
      expect(adds.length, `${name} has an add`).toBeGreaterThan(0);
      // every site's integers (its QuantizeLinear) and each fused add input rescaled into the accumulator's domain
      const sites = im.layers.filter((l) => l.op !== 'dequantize' && l.op !== 'quantize' && qm.plan.acts.some((a) => a.node === l.id));
      const inputSites = new Set(adds.flatMap((l) => l.inputs));
      const names = [...new Set([...sites.map((l) => l.id), ...inputSites].filter((id) => qm.plan.acts.some((a) => a.node === id)))].map((id) => `${id}.q`);
      const fusedR = adds.filter((l) => l.op === 'conv2d').map((l) => `${l.id}.add_input.i32`);
      const ortv = await ortValues(bytes, [...names, ...fusedR], x, [n, ...r.inputShape]);
      const ortInt = (id: string) => asInt(ortv.get(`${id}.q`)!, sim.dumps.get(id)!);
      let checked = 0;
      for (const l of adds) {
        if (l.op === 'add') {
          // the add: exactly the simulator's addInt on onnxruntime's input integers
          const [a, b] = l.inputs.map(ortInt);
          const want = addInt(a.data, 0, b.data, 0, l.params, { dtype: im.values[l.id].dtype, clampMin: l.clamp.lo, clampMax: l.clamp.hi });
          expect(Array.from(ortInt(l.id).data), `${l.id}: add integers`).toEqual(Array.from(want));
        } else if (l.op === 'conv2d' && l.addRescale) {
          // the fused add input in the accumulator's domain: exactly round_half_up(a · m[o] / 2^k[o])
          const a = ortInt(l.inputs[1]), O = l.weightShape[0], inner = a.data.length / n / O;
          const want = Array.from(a.data, (v, i) => mulShiftRound(v, l.addRescale!.multiplier[Math.floor(i / inner) % O], l.addRescale!.shift[Math.floor(i / inner) % O]));
          expect(Array.from(ortv.get(`${l.id}.add_input.i32`)!), `${l.id}: rescaled add input`).toEqual(want);
        }
        checked++;
      }
      expect(checked).toBe(adds.length);
      // every layer fed onnxruntime's integers: within 1 LSB of onnxruntime's own (float conv sums near a tie may round apart)
      for (const l of sites) {
        if (!l.inputs.every((id) => ortv.has(`${id}.q`)) || !ortv.has(`${l.id}.q`)) continue;
        const got = execLayer(im, l, l.inputs.map(ortInt)).data, want = ortInt(l.id).data;
        let max = 0;
        for (let i = 0; i < got.length; i++) max = Math.max(max, Math.abs(got[i] - want[i]));
        expect(max, `${l.op} ${l.id}`).toBeLessThanOrEqual(l.op === 'add' ? 0 : 1);
      }
      qm.store.dispose();
      qm.dispose();
    });
  }
});
