/**
 * AdaRound (src/quant/ptq):
 *  - h(V), the regularizer and the whole layer loss (reconstruction on the CPU backend + regularizer) have
 *    gradients that match central finite differences;
 *  - on real layers (the PyTorch-trained Fashion-MNIST CNN, int4 per-channel weights, real images as inputs from
 *    the quantized model) the learned hard rounding lowers the layer's reconstruction error below round-to-nearest,
 *    and every learned integer is within one step of round-to-nearest;
 *  - after the whole-model pass, convert() quantizes the written-back weights to exactly the integers AdaRound chose.
 */
import { beforeAll, describe, expect, it } from 'vitest';
import { createCpuBackend } from '../src/engine/reference/cpu-backend.ts';
import type { Backend } from '../src/engine/backend.ts';
import { randomSubset, type ImageDataset } from '../src/data/dataset.ts';
import { loadIdxFolder } from '../src/data/idx.ts';
import { iterateBatches } from '../src/data/loader.ts';
import { fuse } from '../src/graph/passes/fuse.ts';
import { nodeById, type GraphNode } from '../src/graph/ir.ts';
import { importOnnx } from '../src/io/onnx/import.ts';
import { ParamStore } from '../src/nn/params.ts';
import { calibrate } from '../src/quant/calibrate.ts';
import { convertQuantizedModel, quantizeWeights, weightScales } from '../src/quant/convert.ts';
import { prepare } from '../src/quant/prepare.ts';
import { qconfigTemplate } from '../src/quant/qconfig.ts';
import { QuantizedModel } from '../src/quant/quantized-model.ts';
import { resolveAdaRoundConfig } from '../src/quant/ptq/adaround-config.ts';
import { adaround, cacheLayerData } from '../src/quant/ptq/adaround.ts';
import { lossAndGrad, optimizeLayer, softWeights, type LayerProblem } from '../src/quant/ptq/adaround-layer.ts';
import { rectifiedSigmoid, rectifiedSigmoidGrad, roundingRegularizer } from '../src/quant/ptq/rectified-sigmoid.ts';
import { weightGrid } from '../src/quant/ptq/weight-grid.ts';
import { fixture } from './helpers/onnx.ts';
import { mulberry32 } from './helpers/random.ts';

let calibDs: ImageDataset;

beforeAll(async () => {
  const d = await loadIdxFolder('/usr/share/datasets/fashion-mnist');
  calibDs = randomSubset(d.train, 32, 1);
});

async function fashionCnnW4(be: Backend) {
  const r = importOnnx(fixture('fashion_cnn'), 'fashion_cnn.onnx');
  const f = fuse(r.graph, r.host);
  const qm = new QuantizedModel(be, prepare(f.graph, qconfigTemplate('default_calibration', { weightBits: 4, observer: 'minmax' })), new ParamStore(be, f.graph, f.host));
  await calibrate(qm, calibDs, { batchSize: 32, normalize: r.normalization });
  return { qm, host: f.host, normalization: r.normalization };
}

describe('AdaRound: gradients against finite differences', () => {
  it('h(V) and the regularizer', () => {
    for (const v of [-2, -0.7, 0, 0.3, 1.9]) {
      const e = 1e-5;
      expect(rectifiedSigmoidGrad(v)).toBeCloseTo((rectifiedSigmoid(v + e) - rectifiedSigmoid(v - e)) / (2 * e), 6);
    }
    for (const h of [0.1, 0.35, 0.62, 0.9]) for (const beta of [2, 7.5, 20]) {
      const e = 1e-6;
      const fd = (roundingRegularizer(h + e, beta).value - roundingRegularizer(h - e, beta).value) / (2 * e);
      expect(roundingRegularizer(h, beta).dh).toBeCloseTo(fd, 4);
    }
  });

  it('the layer loss in V (conv 3->4, fused ReLU, int4 grid, regularizer on)', async () => {
    const be = createCpuBackend();
    const r = mulberry32(5);
    const node: GraphNode = {
      id: 'c', op: 'conv2d', inputs: ['x'], params: { weight: 'w', bias: 'b' }, namespace: '', shape: [4, 6, 6],
      attrs: { act: 'relu', conv: { strideH: 1, strideW: 1, padH: 1, padW: 1, dilationH: 1, dilationW: 1, groups: 1 } },
    };
    const wShape = [4, 3, 3, 3];
    const w = Float32Array.from({ length: 108 }, () => (r() * 2 - 1) * 0.5);
    const grid = weightGrid(w, 4, -8, 7, 'bayes', 'half_even');
    const x = be.upload(Float32Array.from({ length: 2 * 3 * 36 }, () => r() * 2 - 1), [2, 3, 6, 6]);
    const t = be.upload(Float32Array.from({ length: 2 * 4 * 36 }, () => -r()), [2, 4, 6, 6]);
    const bias = be.upload(Float32Array.from({ length: 4 }, () => r() * 0.2), [4]);
    const p: LayerProblem = { be, node, weightShape: wShape, bias, grid, batches: [{ x, add: null, negTarget: t }] };
    const v = Float64Array.from({ length: 108 }, () => (r() * 2 - 1) * 1.5);
    const beta = 4, weight = 0.05;
    const loss = async (vv: Float64Array) => {
      const g = await lossAndGrad(p, vv, 0, beta, weight);
      return g.recon! + g.reg;
    };
    const { grad } = await lossAndGrad(p, v, 0, beta, weight);
    let checked = 0;
    for (let i = 0; i < 108; i += 7) {
      if (grid.frozen[i]) continue;
      const e = 1e-2;
      const vp = v.slice(), vm = v.slice();
      vp[i] += e;
      vm[i] -= e;
      const fd = ((await loss(vp)) - (await loss(vm))) / (2 * e);
      expect(Math.abs(grad[i] - fd)).toBeLessThan(2e-3 + 0.02 * Math.abs(fd));
      checked++;
    }
    expect(checked).toBeGreaterThan(10);
    expect(grad.some((g) => Math.abs(g) > 1e-3)).toBe(true);
  });
});

describe('AdaRound on real layers (Fashion-MNIST CNN, int4 weights)', () => {
  for (const id of ['conv1/Conv', 'fc/Gemm']) {
    it(`${id}: lower reconstruction error than round-to-nearest, each weight within 1 step of it`, async () => {
      const be = createCpuBackend();
      const { qm, host, normalization } = await fashionCnnW4(be);
      const site = qm.plan.weights.find((s) => s.node === id)!;
      const inputs = [...iterateBatches(calibDs, 16, 0, 0, { shuffle: false, normalize: normalization })].slice(0, 2).map((b) => ({ x: b.x.slice(), shape: [...b.shape] }));
      const floatStore = new ParamStore(be, qm.plan.graph, host);
      const batches = await cacheLayerData(qm, floatStore, id, inputs);
      const n = nodeById(qm.plan.graph, id);
      const w = host[site.param];
      const grid = weightGrid(w, site.channels, site.quantMin, site.quantMax, 'bayes', 'half_even');
      const p: LayerProblem = {
        be, node: n, weightShape: qm.plan.graph.params.find((q) => q.name === site.param)!.shape, grid, batches,
        bias: n.params.bias ? qm.store.param(n.params.bias).value : null,
      };
      const cfg = resolveAdaRoundConfig({ numSteps: 150, numBatches: 2, batchSize: 16, lr: 0.03 });
      const res = await optimizeLayer(p, w, cfg);
      console.log(`${id}: nearest ${res.nearestError.toPrecision(4)}, AdaRound ${res.adaroundError.toPrecision(4)}, ${res.changed} of ${w.length} weights changed, ${(100 * res.soft).toFixed(1)} % still soft`);
      expect(res.adaroundError).toBeLessThan(res.nearestError);
      expect(res.changed).toBeGreaterThan(0);
      for (let i = 0; i < w.length; i++) expect(Math.abs(res.q[i] - grid.nearest[i])).toBeLessThanOrEqual(1);
      // the soft weights start at the float weights
      const s0 = softWeights(grid, Float64Array.from({ length: w.length }, () => 0));
      expect(s0.length).toBe(w.length);
      floatStore.dispose();
      qm.store.dispose();
      qm.dispose();
    }, 300_000);
  }

  it('whole model: convert quantizes the written-back weights to the learned integers', async () => {
    const be = createCpuBackend();
    const { qm, host, normalization } = await fashionCnnW4(be);
    const report = await adaround(qm, calibDs, resolveAdaRoundConfig({ numSteps: 8, numBatches: 1, batchSize: 8, lr: 0.02, excludePrefix: ['conv3'] }), { normalize: normalization });
    expect(report.layers.map((l) => l.node)).toEqual(qm.plan.weights.map((s) => s.node));
    expect(report.layers.find((l) => l.node === 'conv3/Conv')!.rounding).toBe('excluded');
    const im = await convertQuantizedModel(qm);
    const after = await qm.store.toHost();
    for (const site of qm.plan.weights) {
      const layer = im.layers.find((l) => l.id === site.node) as { weight: Int8Array };
      const w0 = host[site.param];
      // same per-channel scales as before (the model, convert and the simulator keep the calibrated grid)
      expect(Array.from(weightScales(after[site.param], site.channels, -8, 7, 'bayes'))).toEqual(Array.from(weightScales(w0, site.channels, -8, 7, 'bayes')));
      const nearest = quantizeWeights(w0, weightScales(w0, site.channels, -8, 7, 'bayes'), -8, 7, 'half_even');
      let diff = 0;
      for (let i = 0; i < w0.length; i++) {
        expect(layer.weight[i]).toBeGreaterThanOrEqual(-8);
        expect(layer.weight[i]).toBeLessThanOrEqual(7);
        expect(Math.abs(layer.weight[i] - nearest[i])).toBeLessThanOrEqual(1);
        if (layer.weight[i] !== nearest[i]) diff++;
      }
      const rep = report.layers.find((l) => l.node === site.node)!;
      expect(diff).toBe(rep.changed);
    }
    qm.store.dispose();
    qm.dispose();
  }, 300_000);
});
