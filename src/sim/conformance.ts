/**
 * Conformance runners for the fixed-point simulator's CPU integer kernels (src/sim/int), 'pytorch' (qnnpack) mode:
 * quantized_conv2d, quantized_linear, quantized_add, quantized_relu. The runner bodies and their checks are shared
 * with the WGSL kernels' runners (src/sim/conformance-runners.ts); this file supplies the CPU datapath.
 */
import type { KindRunner } from '../conformance/types.ts';
import { addInt } from './int/add.ts';
import { conv2dAccumulate } from './int/conv2d.ts';
import { linearAccumulate } from './int/linear.ts';
import { reluInt } from './int/relu.ts';
import { requantize } from './int/requant.ts';
import { intKinds, type IntDatapath } from './conformance-runners.ts';

export { caseTolerance, f32VsF64Marked } from './conformance-runners.ts';

const cpu: IntDatapath = {
  async conv2d(input, geom, spec, out) {
    const r = conv2dAccumulate(input, geom);
    return { acc: r.acc, outQ: requantize(r.acc, spec, out, { channels: r.shape[1], inner: r.shape[2] * r.shape[3] }) };
  },
  async linear(input, spec, out) {
    const r = linearAccumulate(input);
    return { acc: r.acc, outQ: requantize(r.acc, spec, out, { channels: r.shape[1], inner: 1 }) };
  },
  async add(a, aZeroPoint, b, bZeroPoint, params, out) {
    return addInt(a, aZeroPoint, b, bZeroPoint, params, out);
  },
  async relu(x, zeroPoint) {
    return reluInt(x, zeroPoint);
  },
};

export const simKinds: Record<string, KindRunner> = intKinds((run) => run(cpu));
