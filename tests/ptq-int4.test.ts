/**
 * int4 per-channel weights (qconfig weightBits 4: qint4, [-8, 7]) on the PyTorch-trained Fashion-MNIST CNN:
 * the fake-quant model (CPU backend), the integer simulator (convert -> model file -> runIntModel) and the ONNX QDQ
 * export in onnxruntime agree on real test images; the integer weights lie in [-8, 7] (held in int8 storage) and
 * the model file keeps them.
 */
import { beforeAll, describe, expect, it } from 'vitest';
import { createCpuBackend } from '../src/engine/reference/cpu-backend.ts';
import { randomSubset, type ImageDataset } from '../src/data/dataset.ts';
import { loadIdxFolder } from '../src/data/idx.ts';
import { normalizeImages } from '../src/data/loader.ts';
import { fuse } from '../src/graph/passes/fuse.ts';
import { importOnnx } from '../src/io/onnx/import.ts';
import { exportQdqOnnx } from '../src/io/onnx/export-qdq.ts';
import { ParamStore } from '../src/nn/params.ts';
import { calibrate } from '../src/quant/calibrate.ts';
import { convertQuantizedModel } from '../src/quant/convert.ts';
import { prepare } from '../src/quant/prepare.ts';
import { qconfigTemplate } from '../src/quant/qconfig.ts';
import { QuantizedModel } from '../src/quant/quantized-model.ts';
import { decodeModelFile, encodeModelFile } from '../src/sim/model-file.ts';
import { runIntModel } from '../src/sim/run.ts';
import { evaluate } from '../src/train/evaluate.ts';
import { fixture, runOrt } from './helpers/onnx.ts';

const argmax = (a: Float32Array, i: number, k: number) => {
  let b = 0;
  for (let j = 1; j < k; j++) if (a[i * k + j] > a[i * k + b]) b = j;
  return b;
};

let calibDs: ImageDataset, testDs: ImageDataset;

beforeAll(async () => {
  const d = await loadIdxFolder('/usr/share/datasets/fashion-mnist');
  calibDs = randomSubset(d.train, 32, 1);
  testDs = randomSubset(d.test, 200, 0);
});

describe('int4 weights', () => {
  it('qconfig: qint4 weight sites with range [-8, 7]; unknown widths are refused', () => {
    const qc = qconfigTemplate('default_calibration', { weightBits: 4 });
    expect(qc.weight.dtype).toBe('qint4');
    expect(qconfigTemplate('default_qat').weight.dtype).toBe('qint8');
    expect(() => qconfigTemplate('default_qat', { weightBits: 2 as 4 })).toThrow(/weight bits/);
  });

  it('fake quant, simulator and QDQ (onnxruntime) agree on 200 Fashion-MNIST test images', async () => {
    const r = importOnnx(fixture('fashion_cnn'), 'fashion_cnn.onnx');
    const f = fuse(r.graph, r.host);
    const be = createCpuBackend();
    const plan = prepare(f.graph, qconfigTemplate('default_calibration', { weightBits: 4 }));
    expect(plan.weights.every((w) => w.quantMin === -8 && w.quantMax === 7)).toBe(true);
    const qm = new QuantizedModel(be, plan, new ParamStore(be, f.graph, f.host));
    await calibrate(qm, calibDs, { batchSize: 32, normalize: r.normalization });
    const K = f.graph.numClasses;
    const fq: Float32Array[] = [];
    const ev = await evaluate(be, f.graph, qm.store, testDs, {
      hooks: qm.hooks, normalize: r.normalization, batchSize: 100, onLogits: (l) => { fq.push(l.slice()); },
    });
    const fqLogits = Float32Array.from(fq.flatMap((a) => Array.from(a)));

    const im = decodeModelFile(encodeModelFile(await convertQuantizedModel(qm)), 'w4.qsbin');
    let distinct = new Set<number>();
    for (const l of im.layers) {
      if (l.op !== 'conv2d' && l.op !== 'linear') continue;
      expect(l.weight).toBeInstanceOf(Int8Array);
      for (const v of l.weight) {
        expect(v).toBeGreaterThanOrEqual(-8);
        expect(v).toBeLessThanOrEqual(7);
      }
      distinct = new Set([...distinct, ...l.weight]);
    }
    expect(distinct.size).toBeGreaterThan(10); // the grid is used, not collapsed

    const x = normalizeImages(testDs, r.normalization);
    const sim = runIntModel(im, x, testDs.count).output;
    const ort = await runOrt(await exportQdqOnnx(qm), x, [testDs.count, ...r.inputShape]);
    let simAgree = 0, ortAgree = 0, simCorrect = 0;
    for (let i = 0; i < testDs.count; i++) {
      const a = argmax(fqLogits, i, K);
      if (argmax(sim, i, K) === a) simAgree++;
      if (argmax(ort, i, K) === a) ortAgree++;
      if (argmax(sim, i, K) === testDs.labels![i]) simCorrect++;
    }
    console.log(`int4 weights: fake quant ${ev.acc1.toFixed(2)} %, simulator ${(100 * simCorrect / testDs.count).toFixed(2)} %; top-1 agreement with fake quant: simulator ${simAgree}/200, QDQ ${ortAgree}/200`);
    expect(simAgree / testDs.count).toBeGreaterThanOrEqual(0.98);
    expect(ortAgree / testDs.count).toBeGreaterThanOrEqual(0.98);
    expect(ev.acc1).toBeGreaterThan(50);
    qm.store.dispose();
    qm.dispose();
  }, 300_000);
});
