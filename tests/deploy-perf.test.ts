/**
 * The deployment check (fake-quant model vs simulator: agreement, accuracy, per-layer statistics worst first) and
 * the performance estimate on a hand-computable model.
 */
import { describe, expect, it } from 'vitest';
import { createCpuBackend } from '../src/engine/reference/cpu-backend.ts';
import { GraphBuilder } from '../src/graph/builder.ts';
import { buildModel } from '../src/models/zoo.ts';
import { initHostParams, ParamStore } from '../src/nn/params.ts';
import { fuse } from '../src/graph/passes/fuse.ts';
import { prepare } from '../src/quant/prepare.ts';
import { qconfigTemplate } from '../src/quant/qconfig.ts';
import { QuantizedModel } from '../src/quant/quantized-model.ts';
import { calibrate } from '../src/quant/calibrate.ts';
import { convert, convertQuantizedModel } from '../src/quant/convert.ts';
import { deployCheck, layersForReport } from '../src/quant/deploy-check.ts';
import { runIntModel } from '../src/sim/run.ts';
import { estimatePerf, MARCH_SPECS } from '../src/perf/estimate.ts';
import type { ImageDataset } from '../src/data/dataset.ts';
import { mulberry32 } from './helpers/random.ts';

function images(n: number, seed: number): ImageDataset {
  const r = mulberry32(seed);
  const px = new Uint8Array(n * 784);
  for (let i = 0; i < n; i++) {
    const cx = 6 + r() * 16, cy = 6 + r() * 16, rad = 4 + r() * 8;
    for (let j = 0; j < 784; j++) {
      const d = Math.hypot((j % 28) - cx, Math.floor(j / 28) - cy);
      px[i * 784 + j] = Math.min(255, Math.round(220 * Math.exp(-(d * d) / (rad * rad)) + r() * 30));
    }
  }
  return { name: 'synthetic', count: n, channels: 1, height: 28, width: 28, numClasses: 10, classNames: [], images: px, labels: Uint8Array.from({ length: n }, (_, i) => i % 10) };
}

describe('deployment check', () => {
  it('reports agreement, both accuracies and per-layer statistics sorted worst first', async () => {
    const be = createCpuBackend();
    const g0 = buildModel('cnn-small');
    const f = fuse(g0, initHostParams(g0, 3));
    const qm = new QuantizedModel(be, prepare(f.graph, qconfigTemplate('default_calibration', { observer: 'minmax' })), new ParamStore(be, f.graph, f.host));
    await calibrate(qm, images(16, 1), { batchSize: 16 });
    const im = await convertQuantizedModel(qm);
    const progress: number[] = [];
    const r = await deployCheck(qm, im, images(24, 5), async (x, n, dump) => runIntModel(im, x, n, { dump }), {
      batchSize: 16, onProgress: (p) => progress.push(p.images),
    });
    expect(progress).toEqual([16, 24]);
    expect(r.images).toBe(24);
    expect(r.agreement_top1).toBeGreaterThanOrEqual(90);
    expect(Math.abs(r.int.acc1 - r.qat.acc1)).toBeLessThanOrEqual(10);
    expect(r.layers.map((l) => l.name).sort()).toEqual(['add', 'block1.conv', 'block2.conv', 'block3.conv', 'fc', 'pool', 'quant'].sort());
    for (let i = 1; i < r.layers.length; i++) expect(r.layers[i].sqnr_db).toBeGreaterThanOrEqual(r.layers[i - 1].sqnr_db);
    const quant = r.layers.find((l) => l.name === 'quant')!;
    expect(quant.equal_frac).toBe(1); // the QuantStub is exact
    expect(quant.sqnr_db).toBe(Infinity);
    expect(layersForReport([quant])[0].sqnr_db).toBe(null);
    for (const l of r.layers) {
      expect(l.cosine).toBeGreaterThan(0.99);
      if (l.dtype === 'int8') expect(l.equal_frac).toBeGreaterThan(0.9);
    }
    expect(qm.state).toBe('VALIDATION');
  });
});

describe('performance estimate', () => {
  it('counts MACs, bytes and roofline latency of a hand-computable model', () => {
    // input 1x4x4 -> QuantStub -> conv 1->2, 3x3, pad 1 -> flatten -> linear 32->3 (int32 output) -> DeQuantStub
    const b = new GraphBuilder('tiny', [1, 4, 4], 3);
    let x = b.quantStub('input');
    x = b.conv('conv', x, 2, 3, { padding: 1 });
    x = b.flatten('flatten', x);
    x = b.linear('fc', x, 3);
    const g = b.build(b.dequantStub(x));
    const f = fuse(g, initHostParams(g, 1));
    const plan = prepare(f.graph, qconfigTemplate('default_calibration'));
    const im = convert(plan, f.host, { quant: 0.01, conv: 0.02 });
    const p = estimatePerf(im, 'bernoulli2', { batch: 2 });
    const L = Object.fromEntries(p.layers.map((l) => [l.name, l]));
    expect(L.conv.macs_int8xint8).toBe(2 * (2 * 4 * 4) * 9); // batch x outputs x taps
    expect(L.fc.macs_int8xint8).toBe(2 * 3 * 32);
    expect(L.conv.param_bytes).toBe(18 + 4 * 2 + 5 * 2); // int8 weights, int32 bias, multiplier + shift per channel
    expect(L.fc.param_bytes).toBe(96 + 4 * 3); // int32 output: no requant parameters
    expect(L.conv.in_bytes).toBe(2 * 16); // int8 input
    expect(L.conv.out_bytes).toBe(2 * 32);
    expect(L.fc.out_bytes).toBe(2 * 3 * 4); // int32
    expect(L.quant.in_bytes).toBe(2 * 16 * 4); // float input
    expect(L.flatten.ddr_bytes).toBe(0);
    const spec = MARCH_SPECS.bernoulli2;
    const conv = L.conv;
    expect(conv.compute_us).toBeCloseTo((2 * 576 / (spec.peakTops * 1e12)) * 1e6, 12);
    expect(conv.memory_us).toBeCloseTo(((36 + 32 + 64) / (spec.ddrGBps * 1e9)) * 1e6, 12);
    expect(conv.latency_us).toBe(Math.max(conv.compute_us, conv.memory_us));
    const total = p.layers.reduce((s, l) => s + l.latency_us, 0) / 1000;
    expect(p.totals.latency_ms).toBeCloseTo(total, 12);
    expect(p.totals.fps).toBeCloseTo(2000 / total, 6);
    expect(p.totals.macs_int8xint8).toBe(576 + 192);
    // int16 activations count in their own column and cost more
    const im16 = convert(prepare(f.graph, qconfigTemplate('default_calibration_int16')), f.host, { quant: 0.01, conv: 0.02 });
    const p16 = estimatePerf(im16, 'bernoulli2', { batch: 2 });
    expect(p16.totals.macs_int16xint8).toBe(576 + 192);
    expect(p16.layers.find((l) => l.name === 'conv')!.compute_us).toBeCloseTo(2 * conv.compute_us, 12);
  });
});
