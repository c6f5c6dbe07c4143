/**
 * The integer lowering shared by conv2d and linear (docs/fixed-point.md §6): int8 per-output-channel weights with
 * the fake quant's scales and rule, an int32 bias at x_scale * w_scale[o], 'horizon' requantization with the fused
 * activation's clamp; a fused add input rescaled into the accumulator's domain; or an int32 accumulator output.
 */
import type { GraphNode } from '../../graph/ir.ts';
import { quantizeWeights, weightScales } from '../../quant/int-weights.ts';
import { biasScale, quantizeBias } from '../../qmath/bias.ts';
import { requantSpecFromScales } from '../../sim/int/requant.ts';
import type { ConvGeometry, FloatFn, RequantParams } from '../../sim/model.ts';
import type { LowerCtx, Lowered } from '../types.ts';

const pairOf = (a: number, b: number): [number, number] => [a, b];

export function lowerDense(n: GraphNode, c: LowerCtx): Lowered {
  if (n.op !== 'conv2d' && n.op !== 'linear') c.fail(`${n.id}: ${n.op} is not a conv or linear`);
  const ws = c.weightSite(n);
  if (!ws) c.fail(`${n.id}: no weight site`);
  // The integer model holds weights as int8 (int4 fits): wider weights (an int16 weight site) cannot be deployed.
  if (ws.quantMin < -128 || ws.quantMax > 127) c.fail(`${n.id}: ${ws.quantMax > 32767 ? 'qint32' : 'qint16'} weights are not supported by the simulator (int8 or narrower only)`);
  const wf = c.param(n.params.weight);
  const wShape = c.paramShape(n.params.weight);
  const wScales = weightScales(wf, ws.channels, ws.quantMin, ws.quantMax, c.march);
  const wq = quantizeWeights(wf, wScales, ws.quantMin, ws.quantMax, c.rounding);
  const xScale = c.scalarScale(n.inputs[0]);
  const bias = quantizeBias(n.params.bias ? c.param(n.params.bias) : new Float32Array(ws.channels), xScale, wScales);
  let geometry: ConvGeometry | undefined;
  if (n.op === 'conv2d') {
    const g = n.attrs.conv!;
    geometry = { stride: pairOf(g.strideH, g.strideW), padding: pairOf(g.padH, g.padW), dilation: pairOf(g.dilationH, g.dilationW), groups: g.groups };
  }
  let addRescale: RequantParams | undefined;
  if (n.attrs.addInput) {
    if (n.op !== 'conv2d') c.fail(`${n.id}: addInput on a linear is not supported`);
    const aScale = c.scalarScale(n.inputs[1]);
    addRescale = c.requantParams(Array.from(wScales, (w) => aScale / (xScale * w)), c.march, c.bits);
  }
  const op = n.op as 'conv2d' | 'linear';
  if (c.int32Output(n)) {
    // per-channel scales index axis 1 of the output; a linear on tokens has its channels last
    if (n.shape.length > 1 && n.op === 'linear') c.fail(`${n.id}: a linear on tokens cannot keep an int32 output`);
    if (n.attrs.act || n.attrs.addInput) c.fail(`${n.id}: an int32 output cannot have a fused activation or add`);
    const scales = Array.from(wScales, (w) => biasScale(xScale, w));
    return {
      layer: { id: n.id, op, inputs: [...n.inputs], weight: wq, weightShape: [...wShape], bias, geometry, requant: null, clamp: c.dtypeClamp('int32') },
      value: { dtype: 'int32', scales, shape: [...n.shape] },
    };
  }
  const s = c.site(n);
  const spec = requantSpecFromScales('horizon', xScale, wScales, s.scale, { march: c.march, bits: c.bits });
  if (spec.mode !== 'horizon') throw new Error('unreachable');
  return {
    layer: {
      id: n.id, op, inputs: [...n.inputs], weight: wq, weightShape: [...wShape], bias, geometry,
      requant: { multiplier: spec.multiplier, shift: spec.shift }, addRescale, clamp: c.actClamp(n.attrs.act, s.scale, s.dtype),
    },
    value: { dtype: s.dtype, scales: [s.scale], shape: [...n.shape] },
  };
}

/**
 * A linear as a float island (a heterogeneous model): its weights int8 per output channel exactly as lowerDense
 * quantizes them (the fake quant's scales and rule), its bias float as the fake-quant model adds it.
 */
export function floatLinear(n: GraphNode, c: LowerCtx): FloatFn {
  if (n.attrs.act || n.attrs.addInput) c.fail(`${n.id}: a float-island linear with a fused ${n.attrs.act ?? 'add'} is not supported`);
  const ws = c.weightSite(n);
  if (!ws) c.fail(`${n.id}: no weight site`);
  if (ws.quantMin < -128 || ws.quantMax > 127) c.fail(`${n.id}: int8 or narrower weights only`);
  const wf = c.param(n.params.weight);
  const scales = weightScales(wf, ws.channels, ws.quantMin, ws.quantMax, c.march);
  return {
    kind: 'linear', weight: quantizeWeights(wf, scales, ws.quantMin, ws.quantMax, c.rounding), weightShape: [...c.paramShape(n.params.weight)],
    weightScales: Array.from(scales), bias: n.params.bias ? Array.from(c.param(n.params.bias)) : null,
  };
}
