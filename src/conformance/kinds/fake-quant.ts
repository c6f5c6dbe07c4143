/** Kind runners `fake_quant_per_tensor` and `fake_quant_per_channel` (CPU reference, bit-exact). */
import {
  fakeQuantizeBackward,
  fakeQuantizePerChannel,
  fakeQuantizePerTensor,
} from '../../qmath/fake-quantize.ts';
import type { RoundingMode } from '../../qmath/rounding.ts';
import type { CaseFile, CaseResult, KindRunner } from '../types.ts';
import { type Tolerance, compare, f32Tensor, numbers, param, result, tensorData } from './common.ts';

const EXACT: Tolerance = {};

function rounding(c: CaseFile): RoundingMode {
  const r = param<string>(c, 'rounding', 'half_even');
  if (r !== 'half_even' && r !== 'bpu_round') throw new Error(`unsupported rounding ${r}`);
  return r;
}

/** Compares the optional `derived.q` / `derived.mask` too: they pinpoint rounding vs clamping differences. */
function derivedChecks(c: CaseFile, q: Int32Array, mask: Uint8Array) {
  const checks = [];
  const d = c.derived ?? {};
  if (d.q !== undefined) checks.push(compare('q', tensorData(d, 'q', 'derived').data, q));
  if (d.mask !== undefined) checks.push(compare('mask', tensorData(d, 'mask', 'derived').data, mask));
  return checks;
}

export const fakeQuantPerTensorCpu: KindRunner = async (c: CaseFile): Promise<CaseResult> => {
  const x = f32Tensor(c.inputs, 'x', 'inputs');
  const g = f32Tensor(c.inputs, 'grad_output', 'inputs');
  const scale = param<number>(c, 'scale');
  const zp = param<number>(c, 'zero_point');
  const { out, mask, q } = fakeQuantizePerTensor(x.data, scale, zp, param(c, 'quant_min'), param(c, 'quant_max'), rounding(c));
  const grad = fakeQuantizeBackward(g.data, mask);
  return result([
    compare('out', numbers(c.expected, 'out', 'expected'), out, EXACT),
    compare('grad_x', numbers(c.expected, 'grad_x', 'expected'), grad, EXACT),
    ...derivedChecks(c, q, mask),
  ]);
};

export const fakeQuantPerChannelCpu: KindRunner = async (c: CaseFile): Promise<CaseResult> => {
  const w = f32Tensor(c.inputs, 'w', 'inputs');
  const g = f32Tensor(c.inputs, 'grad_output', 'inputs');
  const scales = numbers(c.params, 'scales', 'params');
  const zps = numbers(c.params, 'zero_points', 'params');
  const { out, mask, q } = fakeQuantizePerChannel(
    w.data,
    w.shape,
    scales,
    zps,
    param<number>(c, 'axis', 0),
    param(c, 'quant_min'),
    param(c, 'quant_max'),
    rounding(c),
  );
  const grad = fakeQuantizeBackward(g.data, mask);
  return result([
    compare('out', numbers(c.expected, 'out', 'expected'), out, EXACT),
    compare('grad_w', numbers(c.expected, 'grad_w', 'expected'), grad, EXACT),
    ...derivedChecks(c, q, mask),
  ]);
};

export const fakeQuantCpuKinds: Record<string, KindRunner> = {
  fake_quant_per_tensor: fakeQuantPerTensorCpu,
  fake_quant_per_channel: fakeQuantPerChannelCpu,
};
