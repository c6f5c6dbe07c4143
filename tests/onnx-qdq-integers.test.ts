/**
 * The ONNX QDQ export and the fixed-point simulator run the same integers: every conv / linear weight initializer
 * (int8) and bias initializer (int32) of the exported file is byte-equal to the converted model's (src/quant/convert.ts,
 * what src/sim/run.ts computes with), on cnn-small and mobilenetv2-mini (width 0.5), int8 and int16 activations,
 * calibrated on synthetic images with biased layers (fused batch norms give every conv a bias).
 */
import { describe, expect, it } from 'vitest';
import { createCpuBackend } from '../src/engine/reference/cpu-backend.ts';
import { buildModel } from '../src/models/zoo.ts';
import { initHostParams, ParamStore } from '../src/nn/params.ts';
import { fuse } from '../src/graph/passes/fuse.ts';
import { prepare } from '../src/quant/prepare.ts';
import { qconfigTemplate } from '../src/quant/qconfig.ts';
import { QuantizedModel } from '../src/quant/quantized-model.ts';
import { calibrate } from '../src/quant/calibrate.ts';
import { convertQuantizedModel } from '../src/quant/convert.ts';
import { exportQdqOnnx } from '../src/io/onnx/export-qdq.ts';
import { decodeModelProto, DataType } from '../src/io/onnx/proto.ts';
import type { ImageDataset } from '../src/data/dataset.ts';
import { mulberry32 } from './helpers/random.ts';

function images(n: number, seed: number): ImageDataset {
  const r = mulberry32(seed);
  return {
    name: 'synthetic', count: n, channels: 1, height: 28, width: 28, numClasses: 10, classNames: [],
    images: Uint8Array.from({ length: n * 784 }, () => Math.floor(r() * 256)), labels: Uint8Array.from({ length: n }, (_, i) => i % 10),
  };
}

const bytesOf = (a: ArrayBufferView) => Buffer.from(a.buffer, a.byteOffset, a.byteLength);

async function check(model: string, template: string, width?: number, march?: 'bernoulli') {
  const be = createCpuBackend();
  const g0 = buildModel(model, { width });
  const host = initHostParams(g0, 3);
  // non-trivial biases everywhere (the zoo initialises some to zero): a fused BN's beta, or the layer's own bias
  const r = mulberry32(8);
  for (const p of g0.params) if (/\.(bias|beta)$/.test(p.name) && host[p.name]) host[p.name] = host[p.name].map(() => (r() - 0.5) * 0.8);
  const f = fuse(g0, host);
  const store = new ParamStore(be, f.graph, f.host);
  const qm = new QuantizedModel(be, prepare(f.graph, qconfigTemplate(template, march ? { march } : {})), store);
  try {
    await calibrate(qm, images(16, 1), { batchSize: 16 });
    qm.setState('VALIDATION');
    const im = await convertQuantizedModel(qm);
    const onnx = decodeModelProto(await exportQdqOnnx(qm));
    const inits = new Map(onnx.graph!.initializer!.map((t) => [t.name!, t]));
    let weights = 0, biases = 0, nonzeroBias = 0;
    for (const l of im.layers) {
      if (l.op !== 'conv2d' && l.op !== 'linear') continue;
      const node = f.graph.nodes.find((n) => n.id === l.id)!;
      const w = inits.get(`${node.params.weight}.quantized`);
      expect(w, `${l.id}: weight initializer`).toBeDefined();
      expect(w!.dataType).toBe(DataType.INT8);
      expect(Buffer.compare(Buffer.from(w!.rawData!), bytesOf(l.weight)), `${l.id}: weights`).toBe(0);
      weights++;
      if (!node.params.bias) continue;
      const b = inits.get(`${node.params.bias}.quantized`);
      expect(b, `${l.id}: bias initializer`).toBeDefined();
      expect(b!.dataType).toBe(DataType.INT32);
      const sim = Array.from(l.bias), exp = Array.from(new Int32Array(new Uint8Array(b!.rawData!).slice().buffer));
      expect(exp, `${l.id}: biases`).toEqual(sim);
      expect(Buffer.compare(Buffer.from(b!.rawData!), bytesOf(l.bias)), `${l.id}: bias bytes`).toBe(0);
      biases++;
      nonzeroBias += sim.filter((v) => v !== 0).length;
    }
    expect(weights).toBe(qm.plan.weights.length);
    expect(biases).toBeGreaterThan(0);
    expect(nonzeroBias).toBeGreaterThan(biases); // real biases, not zeros
    return { weights, biases };
  } finally {
    store.dispose();
    qm.dispose();
  }
}

describe('QDQ export integers = simulator integers (byte-equal)', () => {
  it('cnn-small, int8 activations', async () => {
    await check('cnn-small', 'default_calibration');
  });
  it('cnn-small, int16 activations', async () => {
    await check('cnn-small', 'default_calibration_int16');
  });
  it('mobilenetv2-mini (width 0.5: depthwise, fused Conv+Add), int8 activations', async () => {
    await check('mobilenetv2-mini', 'default_calibration', 0.5);
  });
  it('cnn-small on bernoulli (power-of-two scales)', async () => {
    await check('cnn-small', 'default_calibration', undefined, 'bernoulli');
  });
});
