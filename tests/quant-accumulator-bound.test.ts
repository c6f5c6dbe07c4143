/**
 * Worst-case int32 accumulator bounds (src/quant/accumulator-bound.ts): a crafted int16 conv of 3x3x64 taps whose
 * bound leaves int32 is reported at risk, and the input that reaches the bound really makes the simulator's
 * accumulator wrap (its output has the wrong sign); the same layer on int8 activations is safe; a saturated bias is
 * reported; convert's strict mode refuses both with the layer named.
 */
import { describe, expect, it } from 'vitest';
import { GraphBuilder } from '../src/graph/builder.ts';
import { fuse } from '../src/graph/passes/fuse.ts';
import { initHostParams } from '../src/nn/params.ts';
import { prepare } from '../src/quant/prepare.ts';
import { qconfigTemplate } from '../src/quant/qconfig.ts';
import { convert, ConvertError, type IntModel } from '../src/quant/convert.ts';
import { accumulatorsForReport, checkAccumulators, describeAccumulatorCheck } from '../src/quant/accumulator-bound.ts';
import { runIntModel } from '../src/sim/run.ts';

const C = 64, O = 2, H = 6, W = 6;

/** input 64x6x6 -> QuantStub -> conv 64->2, 3x3, pad 1, bias -> flatten -> DeQuantStub; weights all +-1 (then int8 +-127). */
function crafted(template: string, bias = 0.5, o: { accumulators?: 'report' | 'refuse' } = {}): IntModel {
  const b = new GraphBuilder('crafted', [C, H, W], O * H * W);
  let x = b.quantStub('input');
  x = b.conv('conv', x, O, 3, { padding: 1, bias: true });
  x = b.flatten('flatten', x);
  const g = b.build(b.dequantStub(x));
  const host = initHostParams(g, 1);
  const wName = g.params.find((p) => p.name.endsWith('conv.weight'))!.name;
  const bName = g.params.find((p) => p.name.endsWith('conv.bias'))!.name;
  // channel 0: all weights +1; channel 1: alternating signs
  host[wName] = Float32Array.from({ length: O * C * 9 }, (_, i) => (i < C * 9 ? 1 : i % 2 ? 1 : -1));
  host[bName] = Float32Array.from({ length: O }, () => bias);
  const f = fuse(g, host);
  const plan = prepare(f.graph, qconfigTemplate(template));
  return convert(plan, f.host, { quant: 1 / 32, conv: 64 }, o);
}

describe('accumulator bounds', () => {
  it('a 3x3x64 conv on int16 activations is at risk, and the input reaching its bound makes the simulator wrap', () => {
    const im = crafted('default_calibration_int16');
    const conv = im.layers.find((l) => l.id === 'conv')!;
    if (conv.op !== 'conv2d') throw new Error('conv expected');
    const w = conv.weight;
    expect(Math.max(...w)).toBe(127);
    expect(Math.min(...w)).toBe(-127); // the weights are on the int8 grid at their extremes
    const check = checkAccumulators(im);
    const b = check.layers.find((l) => l.layer === 'conv')!;
    expect(b.input).toEqual([-32768, 32767]);
    // channel 0: 576 weights of +127 -> min = bias - 576*127*32768; channel 1 (288 of +127, 288 of -127) reaches the
    // largest sum: bias + 288*127*32767 + 288*127*32768
    const bias0 = conv.bias[0];
    expect(b.max).toBe(conv.bias[1] + 288 * 127 * (32767 + 32768));
    expect(b.min).toBe(bias0 - 576 * 127 * 32768);
    expect(b.channel).toBe(0); // the larger magnitude: |min| of channel 0
    expect(b.max).toBeGreaterThan(2 ** 31 - 1);
    expect(b.atRisk).toBe(true);
    expect(check.atRisk.map((l) => l.layer)).toEqual(['conv']);
    expect(describeAccumulatorCheck(check).join('\n')).toMatch(/^conv \(conv2d\): int32 accumulator at risk: worst case .* for inputs in -32768\.\.32767/);
    expect(accumulatorsForReport(check).at_risk[0]).toMatchObject({ layer: 'conv', op: 'conv2d', channel: 0 });

    // The input of all +32767 (every weight of channel 0 is +127): the exact accumulator is positive and beyond
    // 2^31, the simulator's int32 accumulator wraps to a negative value, so its output saturates at the wrong end.
    const x = new Float32Array(C * H * W).fill(32767 / 32);
    const r = runIntModel(im, x, 1, { dump: ['conv'] });
    const center = 2 * W + 2; // all 9 taps inside the image
    const exact = bias0 + 576 * 127 * 32767;
    expect(exact).toBeGreaterThan(2 ** 31);
    const simulated = r.dumps.get('conv')!.data[center];
    expect(simulated).toBeLessThan(0); // wrapped: the float model's value is +exact * scale, far above zero
  });

  it('the same layer on int8 activations is safe (9.4e6 < 2^31)', () => {
    const im = crafted('default_calibration');
    const conv = im.layers.find((l) => l.id === 'conv')!;
    if (conv.op !== 'conv2d') throw new Error('conv expected');
    const check = checkAccumulators(im);
    const b = check.layers.find((l) => l.layer === 'conv')!;
    expect(b.input).toEqual([-128, 127]);
    expect(b.max).toBe(conv.bias[1] + 288 * 127 * (127 + 128));
    expect(b.min).toBe(Math.min(conv.bias[0], conv.bias[1]) - 576 * 127 * 128);
    expect(b.atRisk).toBe(false);
    expect(check.atRisk).toEqual([]);
    expect(check.saturatedBiases).toEqual([]);
    expect(describeAccumulatorCheck(check)).toEqual([]);
  });

  it('reports a bias that convert saturated at int32, and strict mode refuses both problems naming the layer', () => {
    // bias / (x_scale * w_scale) = 1e9 / (1/32 * 1/127.5) ~ 4e12 > 2^31: clipped to 2^31 - 1
    const im = crafted('default_calibration', 1e9);
    const conv = im.layers.find((l) => l.id === 'conv')!;
    if (conv.op !== 'conv2d') throw new Error('conv expected');
    expect(Array.from(conv.bias)).toEqual([2147483647, 2147483647]);
    const check = checkAccumulators(im);
    expect(check.saturatedBiases).toEqual([{ layer: 'conv', channels: [0, 1] }]);
    expect(describeAccumulatorCheck(check).join('\n')).toMatch(/conv: int32 bias saturated in channels 0, 1/);
    expect(() => crafted('default_calibration', 1e9, { accumulators: 'refuse' })).toThrow(ConvertError);
    expect(() => crafted('default_calibration', 1e9, { accumulators: 'refuse' })).toThrow(/int32 bias saturated/);
    expect(() => crafted('default_calibration_int16', 0.5, { accumulators: 'refuse' })).toThrow(/conv \(conv2d\): int32 accumulator at risk/);
    expect(() => crafted('default_calibration', 0.5, { accumulators: 'refuse' })).not.toThrow();
  });
});
