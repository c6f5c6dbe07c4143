/**
 * The estimate as a range (docs/perf-model.md §5): each per-frame cost on a hand-computable model, the FPS ends, and
 * cnn-small no longer estimated at microseconds.
 */
import { describe, expect, it } from 'vitest';
import { GraphBuilder } from '../src/graph/builder.ts';
import { fuse } from '../src/graph/passes/fuse.ts';
import { buildModel } from '../src/models/zoo.ts';
import { initHostParams } from '../src/nn/params.ts';
import { convert } from '../src/quant/convert.ts';
import { prepare } from '../src/quant/prepare.ts';
import { qconfigTemplate } from '../src/quant/qconfig.ts';
import { estimatePerf } from '../src/perf/estimate.ts';
import { FRAME_ASSUMPTIONS, frameRange, type FrameAssumptions } from '../src/perf/frame-range.ts';

describe('per-frame costs', () => {
  it('adds each cost to the roofline, by hand on a tiny model', () => {
    // input 1x4x4 -> QuantStub -> conv 1->2 3x3 pad 1 -> flatten -> linear 32->3 -> DeQuantStub, batch 2
    const b = new GraphBuilder('tiny', [1, 4, 4], 3);
    let x = b.quantStub('input');
    x = b.conv('conv', x, 2, 3, { padding: 1 });
    x = b.flatten('flatten', x);
    x = b.linear('fc', x, 3);
    const g = b.build(b.dequantStub(x));
    const f = fuse(g, initHostParams(g, 1));
    const im = convert(prepare(f.graph, qconfigTemplate('default_calibration')), f.host, { quant: 0.01, conv: 0.02 });
    const est = estimatePerf(im, 'nash-m', { batch: 2 });
    // Assumptions chosen so every term is a round number.
    const a: FrameAssumptions = { invokeMs: [0.1, 1], layerUs: [2, 20], ddrLatencyUs: [0.5, 1], ioGBps: [1, 0.5], utilisation: [1, 0.5] };
    const r = frameRange(est, a);
    // quant, conv, fc, dequant move data; flatten is a view.
    expect(est.layers.map((l) => l.name)).toContain('flatten');
    expect(r.layers).toBe(4);
    // float input 2 x 16 x 4 bytes, float output 2 x 3 x 4 bytes
    expect(r.ioBytes).toBe(128 + 24);
    const roof = est.totals.latency_ms;
    expect(r.parts.roofline).toEqual([roof, roof * 2]);
    expect(r.parts.invoke).toEqual([0.1, 1]);
    expect(r.parts.dispatch[0]).toBeCloseTo(0.008, 12);
    expect(r.parts.dispatch[1]).toBeCloseTo(0.08, 12);
    expect(r.parts.ddrLatency[0]).toBeCloseTo(0.002, 12);
    expect(r.parts.ddrLatency[1]).toBeCloseTo(0.004, 12);
    expect(r.parts.io[0]).toBeCloseTo(152e-6, 12); // 152 bytes at 1 GB/s = 152 ns
    expect(r.parts.io[1]).toBeCloseTo(304e-6, 12);
    expect(r.latencyMs[0]).toBeCloseTo(roof + 0.1 + 0.008 + 0.002 + 152e-6, 12);
    expect(r.latencyMs[1]).toBeCloseTo(2 * roof + 1 + 0.08 + 0.004 + 304e-6, 12);
    expect(r.fps[0]).toBeCloseTo(2000 / r.latencyMs[1], 9);
    expect(r.fps[1]).toBeCloseTo(2000 / r.latencyMs[0], 9);
    expect(r.overheadShare[0]).toBeCloseTo(1 - roof / r.latencyMs[0], 12);
  });

  it('cnn-small on nash-m: the fixed costs, not the arithmetic, set the range', () => {
    const g = buildModel('cnn-small');
    const f = fuse(g, initHostParams(g, 0));
    const plan = prepare(f.graph, qconfigTemplate('default_calibration'));
    const scales = Object.fromEntries(plan.acts.map((s) => [s.node, 0.05]));
    const est = estimatePerf(convert(plan, f.host, scales), 'nash-m', { batch: 1 });
    const r = frameRange(est);
    expect(est.totals.latency_ms).toBeLessThan(0.01); // the roofline: microseconds
    expect(r.latencyMs[0]).toBeGreaterThanOrEqual(FRAME_ASSUMPTIONS.invokeMs[0]);
    expect(r.latencyMs[1]).toBeGreaterThanOrEqual(FRAME_ASSUMPTIONS.invokeMs[1]);
    expect(r.fps[1]).toBeLessThan(20_000); // not 700 000
    expect(r.overheadShare[0]).toBeGreaterThan(0.9);
    expect(r.latencyMs[0]).toBeLessThan(r.latencyMs[1]);
  });
});
