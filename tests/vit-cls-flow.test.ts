/**
 * A ViT as torchvision / timm write it (tests/fixtures/onnx/vit_cls.onnx, 3x32x32, patch 8: 16 patch tokens of 32):
 * a learned class token [1, 1, 32] expanded to the batch (Expand of a Shape / Gather / ConstantOfShape / Where
 * subgraph) and concatenated before the patch tokens, a learned position table [1, 17, 32] added with broadcasting,
 * and the class token's output read out (Gather of token 0). Through the flow:
 *  - import: the shape subgraph folds; the class token and the position table are `constant` nodes (learned
 *    parameters), the concat is on the token axis, the readout a slice + flatten (opset 13 and 17 alike; the float
 *    comparison with onnxruntime on both backends is FLOAT_FIXTURES, onnx-import*.test.ts);
 *  - prepare: each constant gets its own activation fake quant (Horizon: a constant input of an add / concat);
 *  - QAT trains them; convert stores their integers (`const` layers); every integer layer, fed the fake-quant
 *    model's integers, within 2 LSB; the model file keeps them; the GPU simulator computes the same integers in every
 *    layer; the QDQ export runs in onnxruntime;
 *  - without labels through the CLI: calibration, then distillation QAT raises the output SQNR (both printed).
 */
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { mkdir, readFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runCalib } from '../src/cli/stages/calib.ts';
import { runIntInfer } from '../src/cli/stages/int-infer.ts';
import { runQat } from '../src/cli/stages/qat.ts';
import { Tape } from '../src/engine/autograd.ts';
import { Optimizer } from '../src/engine/optim/optimizer.ts';
import { createCpuBackend } from '../src/engine/reference/cpu-backend.ts';
import { withoutLabels, type ImageDataset } from '../src/data/dataset.ts';
import { normalizeImages } from '../src/data/loader.ts';
import { fuse } from '../src/graph/passes/fuse.ts';
import { exportQdqOnnx } from '../src/io/onnx/export-qdq.ts';
import { importOnnx } from '../src/io/onnx/import.ts';
import { runGraph } from '../src/nn/executor.ts';
import { ParamStore } from '../src/nn/params.ts';
import { calibrate } from '../src/quant/calibrate.ts';
import { convertQuantizedModel } from '../src/quant/convert.ts';
import { prepare } from '../src/quant/prepare.ts';
import { qconfigTemplate } from '../src/quant/qconfig.ts';
import { QuantizedModel } from '../src/quant/quantized-model.ts';
import { decodeModelFile, encodeModelFile } from '../src/sim/model-file.ts';
import { execLayer, runIntModel } from '../src/sim/run.ts';
import { trainStep } from '../src/train/trainer.ts';
import { buildViewGraph } from '../src/ui/graph-view/graph-model.ts';
import { writeUnlabelledImages } from '../scripts/unlabelled-images.ts';
import { relError, runOrt } from './helpers/onnx.ts';
import { mulberry32 } from './helpers/random.ts';
import { destroyTestBackend } from './helpers/gpu.ts';

afterAll(destroyTestBackend);

const ONNX = 'tests/fixtures/onnx/vit_cls.onnx';
const load = (file: string) => importOnnx(new Uint8Array(readFileSync(file)), file.split('/').pop()!);

function images(n: number, seed: number): ImageDataset {
  const rnd = mulberry32(seed);
  return withoutLabels({
    name: 'noise', images: Uint8Array.from({ length: n * 3 * 32 * 32 }, () => Math.floor(256 * rnd())), labels: new Uint8Array(n),
    count: n, channels: 3, height: 32, width: 32, numClasses: 10, classNames: [],
  });
}

describe('ViT with a class token and a position table: import', () => {
  it.each([ONNX, 'tests/fixtures/onnx/vit_cls17.onnx'])('%s: two learned constants, a concat on tokens, the token-0 readout', (file) => {
    const r = load(file);
    const g = r.graph;
    const byId = new Map(g.nodes.map((n) => [n.id, n]));
    const consts = g.nodes.filter((n) => n.op === 'constant');
    expect(consts.map((n) => n.shape)).toEqual([[1, 32], [17, 32]]);
    // the class token's value is the file's parameter, the position table's too
    expect(Array.from(r.host[consts[0].params.value]).slice(0, 3).every(Number.isFinite)).toBe(true);
    expect(g.params.find((p) => p.name === consts[1].params.value)!.kind).toBe('param');
    const cat = g.nodes.find((n) => n.op === 'concat')!;
    expect(cat.inputs.map((i) => byId.get(i)!.shape)).toEqual([[1, 32], [16, 32]]);
    expect(cat.inputs[0]).toBe(consts[0].id);
    const add = g.nodes.find((n) => n.op === 'add' && n.inputs.includes(consts[1].id))!;
    expect(add.inputs[0]).toBe(cat.id);
    // readout: token 0 (a slice of the token axis) flattened into the head
    const head = g.nodes.find((n) => n.op === 'linear' && n.shape.join() === '10')!;
    const flat = byId.get(head.inputs[0])!;
    expect(flat.op).toBe('flatten');
    expect(byId.get(flat.inputs[0])!.attrs.slice).toEqual({ start: 0, end: 1 });
    expect(g.nodes.filter((n) => n.op === 'layernorm')).toHaveLength(5);
    // the viewer names them
    const view = buildViewGraph(g, null);
    expect(view.nodes.find((n) => n.id === consts[1].id)!.detail).toBe('Constant [17x32] learned');
  });

  it('refusals name the node and the reason', async () => {
    const { tinyModel, int64Init, floatInit, int, ints } = await import('./helpers/onnx.ts');
    const bad = (nodes: Parameters<typeof tinyModel>[0]['nodes'], inits: Parameters<typeof tinyModel>[0]['inits'], re: RegExp) =>
      expect(() => importOnnx(tinyModel({ opset: 13, input: ['N', 2, 4, 6], nodes, inits }), 'bad.onnx')).toThrow(re);
    const tokens = { opType: 'Reshape', name: 'tokens', input: ['input', 'tshape'], output: ['t'] };
    const pool = [{ opType: 'ReduceMean', name: 'pool', input: ['z'], output: ['p'], attribute: [ints('axes', [1]), int('keepdims', 0)] },
      { opType: 'Gemm', name: 'head', input: ['p', 'hw', 'hb'], output: ['y'], attribute: [int('transB', 1)] }];
    const base = [int64Init('tshape', [-1, 8, 6]), floatInit('hw', [3, 6]), floatInit('hb', [3])];
    bad([tokens, { opType: 'Gather', name: 'g', input: ['t', 'ix'], output: ['z'], attribute: [int('axis', 2)] }, ...pool],
      [...base, int64Init('ix', [0])], /g.*Gather on axis 2 of a computed tensor is not supported/);
    bad([tokens, { opType: 'Expand', name: 'e', input: ['t', 'es'], output: ['z'] }, ...pool],
      [...base, int64Init('es', [2, 8, 6])], /e.*Expand of a computed tensor/);
    bad([tokens, { opType: 'Add', name: 'a', input: ['t', 'pe'], output: ['z'] }, ...pool],
      [...base, floatInit('pe', [2, 8, 6])], /a.*has 2 rows over the batch/);
  });
});

describe('the class-token pieces alone (no float islands): both engines, CPU = GPU simulator', () => {
  it('tokens, a [1, 1, 6] class token expanded over the batch, a [1, 9, 6] table added, token 0 read out', async () => {
    const { tinyModel, int64Init, floatInit, int, randomInput } = await import('./helpers/onnx.ts');
    const bytes = tinyModel({
      opset: 13, input: ['N', 2, 4, 6],
      nodes: [
        { opType: 'Reshape', name: 'tokens', input: ['input', 'tshape'], output: ['t'] },
        { opType: 'Shape', name: 'shape', input: ['t'], output: ['s'] },
        { opType: 'Gather', name: 'batch', input: ['s', 'zero'], output: ['b'], attribute: [int('axis', 0)] },
        { opType: 'Unsqueeze', name: 'b1', input: ['b', 'zeros'], output: ['bu'] },
        { opType: 'Concat', name: 'eshape', input: ['bu', 'ones2'], output: ['es'], attribute: [int('axis', 0)] },
        { opType: 'Expand', name: 'cls', input: ['cls_token', 'es'], output: ['c'] },
        { opType: 'Concat', name: 'cat', input: ['c', 't'], output: ['ct'], attribute: [int('axis', 1)] },
        { opType: 'Add', name: 'pos', input: ['ct', 'pos_embed'], output: ['z'] },
        { opType: 'Gather', name: 'readout', input: ['z', 'zero'], output: ['p'], attribute: [int('axis', 1)] },
        { opType: 'Gemm', name: 'head', input: ['p', 'hw', 'hb'], output: ['y'], attribute: [int('transB', 1)] },
      ],
      inits: [int64Init('tshape', [-1, 8, 6]), { ...int64Init('zero', [0]), dims: [] }, int64Init('zeros', [0]), int64Init('ones2', [1, 1]),
        floatInit('cls_token', [1, 1, 6]), floatInit('pos_embed', [1, 9, 6]), floatInit('hw', [3, 6]), floatInit('hb', [3])],
    });
    const r = importOnnx(bytes, 'cls_pieces.onnx');
    expect(r.graph.nodes.filter((n) => n.op === 'constant').map((n) => n.shape)).toEqual([[1, 6], [9, 6]]);
    const n = 4, shape = [n, 2, 4, 6];
    const x = randomInput(n * 48, 7, -2, 2);
    const want = await runOrt(bytes, x, shape);
    const { runOurs } = await import('./helpers/onnx.ts');
    const { getTestBackend } = await import('./helpers/gpu.ts');
    for (const be of [createCpuBackend(), await getTestBackend()]) expect(relError(await runOurs(be, r.graph, r.host, x, shape), want), be.kind).toBeLessThan(1e-5);
    const be = createCpuBackend();
    const f = fuse(r.graph, r.host);
    const qm = new QuantizedModel(be, prepare(f.graph, qconfigTemplate('default_calibration', { observer: 'minmax' })), new ParamStore(be, f.graph, f.host));
    await calibrate(qm, withoutLabels({ name: 'x', images: Uint8Array.from({ length: 16 * 48 }, (_, i) => (i * 37) % 256), labels: new Uint8Array(16), count: 16, channels: 2, height: 4, width: 6, numClasses: 3, classNames: [] }), { batchSize: 8, normalize: r.normalization });
    const im = await convertQuantizedModel(qm);
    expect(im.layers.filter((l) => l.op === 'const')).toHaveLength(2);
    const cpu = runIntModel(im, x, n, { dump: true });
    const { ctx } = await getTestBackend();
    const { runIntModelGpu, releaseGpuModel } = await import('../src/sim/run-gpu.ts');
    const gpu = await runIntModelGpu(im, x, n, ctx, { dump: true });
    for (const [id, t] of cpu.dumps) expect(Array.from(gpu.dumps.get(id)!.data), `GPU layer ${id}`).toEqual(Array.from(t.data));
    expect(Array.from(gpu.outputInt.data)).toEqual(Array.from(cpu.outputInt.data));
    releaseGpuModel(im, ctx);
    qm.store.dispose();
    qm.dispose();
  });
});

describe('the token-0 readout as Slice + Squeeze (x[:, 0:1].squeeze(1))', () => {
  it('is a slice and a flatten, and matches onnxruntime', async () => {
    const { tinyModel, int64Init, floatInit, int, randomInput, runOurs } = await import('./helpers/onnx.ts');
    const bytes = tinyModel({
      opset: 13, input: ['N', 2, 4, 6],
      nodes: [
        { opType: 'Reshape', name: 'tokens', input: ['input', 'tshape'], output: ['t'] },
        { opType: 'Slice', name: 'first', input: ['t', 'zero', 'one', 'one'], output: ['s'] },
        { opType: 'Squeeze', name: 'squeeze', input: ['s', 'one'], output: ['p'] },
        { opType: 'Gemm', name: 'head', input: ['p', 'hw', 'hb'], output: ['y'], attribute: [int('transB', 1)] },
      ],
      inits: [int64Init('tshape', [-1, 8, 6]), int64Init('zero', [0]), int64Init('one', [1]), floatInit('hw', [3, 6]), floatInit('hb', [3])],
    });
    const r = importOnnx(bytes, 'slice_squeeze.onnx');
    expect(r.graph.nodes.map((n) => n.op)).toEqual(['input', 'quant_stub', 'reshape', 'slice', 'flatten', 'linear', 'dequant_stub']);
    const x = randomInput(3 * 48, 9);
    expect(relError(await runOurs(createCpuBackend(), r.graph, r.host, x, [3, 2, 4, 6]), await runOrt(bytes, x, [3, 2, 4, 6]))).toBeLessThan(1e-6);
  });
});

describe('ViT with a class token: fake quant, QAT, convert, simulator, QDQ export', () => {
  it('the constants get their own activation sites and train; every layer within 2 LSB; QDQ runs in onnxruntime', async () => {
    const r = load(ONNX);
    const f = fuse(r.graph, r.host);
    const be = createCpuBackend();
    const plan = prepare(f.graph, qconfigTemplate('default_calibration', { march: 'nash-e', observer: 'minmax' }));
    const consts = f.graph.nodes.filter((n) => n.op === 'constant');
    for (const c of consts) expect(plan.acts.find((a) => a.node === c.id)?.spec.dtype, c.id).toBe('qint8');
    const qm = new QuantizedModel(be, plan, new ParamStore(be, f.graph, f.host));
    await calibrate(qm, images(16, 1), { batchSize: 8, normalize: r.normalization });
    // QAT steps: the class token and the position table are parameters, and move
    const before = await Promise.all(consts.map((c) => be.read(qm.store.param(c.params.value).value)));
    qm.setState('QAT');
    const opt = new Optimizer(be, [...qm.store.vars.values()], { name: 'sgd', lr: 0.05, momentum: 0.9 });
    const x16 = normalizeImages(images(16, 2), r.normalization);
    for (let s = 0; s < 2; s++) {
      const loss = await trainStep(be, qm.plan.graph, qm.store, opt, x16.subarray(s * 8 * 3072, (s + 1) * 8 * 3072), [8, 3, 32, 32], Float32Array.from({ length: 8 }, (_, i) => i % 10), true, qm.hooks);
      expect(Number.isFinite(loss)).toBe(true);
    }
    qm.setState('VALIDATION');
    for (const [k, c] of consts.entries()) {
      const after = await be.read(qm.store.param(c.params.value).value);
      expect(relError(after, before[k]), `${c.id} trained`).toBeGreaterThan(0);
    }
    const im = await convertQuantizedModel(qm);
    expect(im.layers.filter((l) => l.op === 'const').map((l) => im.values[l.id].shape)).toEqual([[1, 32], [17, 32]]);

    const n = 8;
    const x = normalizeImages(images(n, 3), r.normalization);
    const tape = new Tape(be, false, false);
    const { output, values } = runGraph(tape, qm.plan.graph, qm.store, tape.input(x, [n, 3, 32, 32]), { ...qm.hooks, keep: () => true });
    const fq = await be.read(output.value);
    const vals = new Map<string, Float32Array>();
    for (const [id, v] of values) vals.set(id, await be.read(v.value));
    tape.dispose();
    let worst = 0, worstAt = '';
    for (const layer of im.layers) {
      if (layer.op === 'quantize' || layer.op === 'dequantize' || im.values[layer.id].dtype === 'int32') continue;
      const ins = layer.inputs.map((id) => {
        const info = im.values[id], v = vals.get(id)!;
        const data = info.dtype === 'int16' ? new Int16Array(v.length) : new Int8Array(v.length);
        for (let i = 0; i < v.length; i++) data[i] = Math.round(v[i] / info.scales[0]);
        return { data, shape: [n, ...info.shape] };
      });
      const got = execLayer(im, layer, ins, n);
      const ref = vals.get(layer.id)!, s = im.values[layer.id].scales[0];
      let m = 0;
      for (let i = 0; i < ref.length; i++) m = Math.max(m, Math.abs(Math.round(ref[i] / s) - got.data[i]));
      if (layer.op === 'const') expect(m, `${layer.id}: the stored integers are the fake quant's`).toBe(0);
      if (m > worst) { worst = m; worstAt = `${layer.op} ${layer.id}`; }
    }
    console.log(`vit_cls.onnx (nash-e): worst layer fed the fake-quant integers ${worst} LSB (${worstAt})`);
    expect(worst).toBeLessThanOrEqual(2);
    const sim = runIntModel(im, x, n);
    expect(relError(sim.output, fq)).toBeLessThan(0.1);
    const back = decodeModelFile(encodeModelFile(im), 'vit_cls.qsbin');
    expect(Array.from(runIntModel(back, x, n).outputInt.data)).toEqual(Array.from(sim.outputInt.data));
    // the GPU simulator (the const layers, the token concat, matmul, softmax, layer norm in WGSL) = the CPU one
    const { getTestBackend } = await import('./helpers/gpu.ts');
    const { runIntModelGpu, releaseGpuModel } = await import('../src/sim/run-gpu.ts');
    const { ctx } = await getTestBackend();
    const cpuDumps = runIntModel(im, x, n, { dump: true }).dumps;
    const gpu = await runIntModelGpu(im, x, n, ctx, { dump: true });
    for (const [id, t] of cpuDumps) expect(Array.from(gpu.dumps.get(id)!.data), `GPU layer ${id}`).toEqual(Array.from(t.data));
    expect(Array.from(gpu.outputInt.data)).toEqual(Array.from(sim.outputInt.data));
    releaseGpuModel(im, ctx);
    // the QDQ export (the constants as initializers expanded to the batch, with their Q/DQ pairs) in onnxruntime
    // (measured per node: the constants' Q/DQ outputs equal the fake quant exactly; the rest differs by 1-2 LSB from
    // the input's QuantizeLinear on, which divides by the scale where the fake quant multiplies by 1/s: ties flip)
    const qdq = await exportQdqOnnx(qm);
    const err = relError(await runOrt(qdq, x, [n, 3, 32, 32], 'disabled'), fq);
    console.log(`vit_cls.onnx QDQ export (nash-e) in onnxruntime vs the fake-quant model: max |diff| / max |fq| ${err.toExponential(2)}`);
    expect(err).toBeLessThan(0.025);
    qm.store.dispose();
    qm.dispose();
  }, 120_000);
});

describe('ViT with a class token: calibration and distillation QAT without labels', () => {
  let root: string;
  beforeAll(async () => {
    root = mkdtempSync(join(tmpdir(), 'qs-vitcls-'));
    await writeUnlabelledImages(join(root, 'images'), 40, 32);
    await mkdir(join(root, 'run'));
  });
  afterAll(() => rmSync(root, { recursive: true, force: true }));

  it('qat --distill raises the output SQNR above the calibration alone', async () => {
    const common = ['--onnx', ONNX, '--data', `folder:${join(root, 'images')}`, '--backend', 'cpu', '--batch-size', '8', '--model-path', join(root, 'run')];
    type Sim = { sqnr_db: number; cosine: number; images: number };
    const report = async () => JSON.parse(await readFile(join(root, 'run', 'report.json'), 'utf8')) as Record<string, { similarity: Sim[] }>;
    await runCalib([...common, '--calib-images', '32']);
    const before = (await report()).calib.similarity[0];
    await runQat([...common, '--distill', '--feature-weight', '0', '--epochs', '3', '--optimizer', 'adam', '--lr', '2e-5', '--schedule', 'cosine', '--qconfig', 'default_qat_fixed_act']);
    const after = (await report()).qat.similarity[0];
    console.log(`vit_cls.onnx, 40 unlabelled PNGs (32 train / 8 held out): output SQNR vs float after calibration ${before.sqnr_db.toFixed(2)} dB, ` +
      `after distillation QAT (3 epochs) ${after.sqnr_db.toFixed(2)} dB`);
    expect(before.sqnr_db).toBeGreaterThan(20);
    expect(after.sqnr_db).toBeGreaterThan(before.sqnr_db);
    // the deployment check, each layer also alone (fed the QAT model's integers): within 1 LSB, islands included
    await runIntInfer([...common, '--isolated']);
    const int = (await report()).int as unknown as { float_islands: { op: string }[]; layers: { name: string; max_lsb: number; isolated_max_lsb?: number }[] };
    const alone = int.layers.filter((l) => l.isolated_max_lsb !== undefined);
    expect(alone.length).toBeGreaterThan(30);
    for (const l of alone) expect(l.isolated_max_lsb, l.name).toBeLessThanOrEqual(1);
    expect(new Set(int.float_islands.map((i) => i.op))).toEqual(new Set(['matmul', 'softmax', 'layernorm']));
  }, 300_000);
});
