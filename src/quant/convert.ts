/**
 * convert(): a calibrated or QAT model (fused graph, float parameters, activation scales) becomes an integer
 * model for the fixed-point simulator (src/sim/run.ts) and the deployable model file (src/sim/model-file.ts).
 *
 * Every choice is written down in docs/fixed-point.md §6. In short:
 *  - weights: int8 per output channel, symmetric, with the scales recomputed from the final float weights exactly as
 *    QuantizedModel.weight does (min/max per channel -> max(f32(amax / 127.5), eps), power of two on bernoulli),
 *    quantized with the fake quant's rule (f32(w * f32(1/s)), the qconfig's rounding, clamp to -128..127);
 *  - biases: int32 at scale x_scale * w_scale[o] (`quantizeBias`);
 *  - activations: the dtype and scale of their site (zero point 0); values that only move data (flatten, reshape,
 *    identity, max pooling) keep their input's scale;
 *  - requantization: 'horizon' mode, 32-bit multiplier + right shift, round half up (power-of-two shifts on bernoulli);
 *  - fused ReLU / ReLU6: clamps in the output's integer domain;
 *  - fused Conv+Add: the add input is rescaled into the accumulator's domain (per output channel multiplier + shift)
 *    and added to the int32 accumulator before the one requantization;
 *  - Add: both inputs rescaled to the output scale with 16-bit multipliers and one common shift;
 *  - average pooling: integer window sums, requantized with x_scale / (out_scale * count);
 *  - int32 high-precision outputs (plan.int32Outputs): the accumulator itself, scale f32(x_scale * w_scale[o]);
 *  - float only at the QuantStub (quantize) and the DeQuantStub (dequantize).
 *
 * Float (double) arithmetic is used here, at convert time only.
 */
import type { Graph, GraphNode } from '../graph/ir.ts';
import type { HostParams } from '../nn/params.ts';
import { minMax, updateQParams } from '../engine/reference/quant.ts';
import { quantizeValue } from '../qmath/fake-quantize.ts';
import { marchUsesPowerOfTwoScale, type March } from '../qmath/march.ts';
import { prepare, type QuantPlan } from './prepare.ts';
import {
  INT_MODEL_FORMAT, INT_MODEL_VERSION, type ConvGeometry, type IntLayer, type IntModel, type OutClamp, type RequantParams, type ValueInfo,
} from '../sim/model.ts';
import { EPS_F32, type QDtype as FqDtype } from '../qmath/qparams.ts';
import type { QConfig } from './qconfig.ts';
import type { RoundingMode } from '../qmath/rounding.ts';
import type { QuantizedModel } from './quantized-model.ts';
import type { QuantCheckpoint } from './quant-checkpoint.ts';
import { computeAddParams, type AddParams } from '../sim/int/add.ts';
import {
  activationClamp, computeHorizonMultiplierShift, DTYPE_RANGE, quantizeBias, requantSpecFromScales, type QDType,
} from '../sim/int/requant.ts';

export interface ConvertOptions {
  /** Width of conv/linear requant multipliers (default 32). */
  multiplierBits?: number;
}

/** The integer model is the simulator's type (src/sim/model.ts); re-exported here for the converter's callers. */
export {
  INT_MODEL_FORMAT, INT_MODEL_VERSION, type ConvGeometry, type IntLayer, type IntLayerOp, type IntModel, type OutClamp, type RequantParams, type ValueInfo,
} from '../sim/model.ts';

export class ConvertError extends Error {}

const simDtype = (d: FqDtype): QDType => {
  switch (d) {
    case 'qint8': return 'int8';
    case 'qint16': return 'int16';
    case 'quint8': return 'uint8';
    case 'qint32': return 'int32';
    default: throw new ConvertError(`activation dtype ${d} is not supported by the simulator (int8/int16 only)`);
  }
};

/**
 * Per-output-channel symmetric weight scales exactly as QuantizedModel.weight computes them at every forward:
 * min/max per channel, then updateQParams (first observation, eps floor, power of two on bernoulli).
 */
export function weightScales(w: Float32Array, channels: number, quantMin: number, quantMax: number, march: March): Float32Array {
  const layout = { outer: 1, channels, inner: w.length / channels };
  const [mn, mx] = minMax(w, layout);
  const qp = new Float32Array(3 * channels);
  updateQParams(new Float32Array(2 * channels), mn, mx, qp, {
    averagingConstant: 1, first: true, quantMin, quantMax, eps: EPS_F32, powerOfTwo: marchUsesPowerOfTwoScale(march),
  });
  return Float32Array.from({ length: channels }, (_, c) => qp[3 * c]);
}

/** The weights on their int8 grid, with the fake quant's rule (so q * scale is the fake-quantized weight). */
export function quantizeWeights(w: Float32Array, scales: Float32Array, quantMin: number, quantMax: number, rounding: RoundingMode): Int8Array {
  const C = scales.length;
  const inner = w.length / C;
  const out = new Int8Array(w.length);
  for (let c = 0; c < C; c++) {
    const inv = Math.fround(1 / scales[c]);
    for (let i = c * inner; i < (c + 1) * inner; i++) {
      const q = quantizeValue(w[i], inv, 0, rounding);
      out[i] = q < quantMin ? quantMin : q > quantMax ? quantMax : q;
    }
  }
  return out;
}

function requantParams(realScales: ArrayLike<number>, march: March, bits: number): RequantParams {
  const n = realScales.length;
  const multiplier = new Int32Array(n), shift = new Int32Array(n);
  for (let i = 0; i < n; i++) {
    const ms = computeHorizonMultiplierShift(realScales[i], march, bits);
    multiplier[i] = ms.multiplier;
    shift[i] = ms.shift;
  }
  return { multiplier, shift };
}

const pairOf = (a: number, b: number): [number, number] => [a, b];

/**
 * Converts a fused, prepared graph. `actScales` holds the scale of every activation site (node id -> scale);
 * `params` the float parameters of the fused graph.
 */
export function convert(plan: QuantPlan, params: HostParams, actScales: Record<string, number>, o: ConvertOptions = {}): IntModel {
  const g: Graph = plan.graph;
  const qc: QConfig = plan.qconfig;
  const march = qc.march;
  const bits = o.multiplierBits ?? 32;
  const values: Record<string, ValueInfo> = {};
  const layers: IntLayer[] = [];
  const acts = new Map(plan.acts.map((a) => [a.node, a]));
  const weights = new Map(plan.weights.map((w) => [w.node, w]));
  const int32 = new Set(plan.int32Outputs);
  if (plan.float.length) throw new ConvertError(`float ops outside the QuantStub/DeQuantStub region are not supported: ${plan.float.join(', ')}`);
  const inputs = g.nodes.filter((n) => n.op === 'input');
  if (inputs.length !== 1) throw new ConvertError(`graph ${g.name}: expected one input, found ${inputs.length}`);
  let dequant: GraphNode | null = null;

  const info = (id: string): ValueInfo => {
    const v = values[id];
    if (!v) throw new ConvertError(`value ${id} is not an integer value (used before it is computed, or float)`);
    return v;
  };
  const scalarScale = (id: string): number => {
    const v = info(id);
    if (v.scales.length !== 1 || v.dtype === 'int32') throw new ConvertError(`value ${id}: an int32 per-channel output cannot feed another integer layer`);
    return v.scales[0];
  };
  /** The site's scale and dtype; throws if the site was never calibrated. */
  const site = (n: GraphNode): { scale: number; dtype: QDType } => {
    const a = acts.get(n.id);
    if (!a) throw new ConvertError(`node ${n.id} (${n.op}) has no activation site`);
    const s = actScales[n.id];
    if (!(s > 0)) throw new ConvertError(`activation ${n.id} has no scale: calibrate first (or run QAT)`);
    return { scale: Math.fround(s), dtype: simDtype(a.spec.dtype) };
  };
  const dtypeClamp = (dtype: QDType): OutClamp => ({ lo: DTYPE_RANGE[dtype][0], hi: DTYPE_RANGE[dtype][1] });
  const actClamp = (act: 'relu' | 'relu6' | undefined, scale: number, dtype: QDType): OutClamp => {
    const c = dtypeClamp(dtype);
    if (!act) return c;
    const a = activationClamp(act, scale, 0);
    return { lo: Math.max(c.lo, a.clampMin ?? c.lo), hi: Math.min(c.hi, a.clampMax ?? c.hi) };
  };
  const param = (name: string): Float32Array => {
    const p = params[name];
    if (!p) throw new ConvertError(`missing parameter ${name}`);
    return p;
  };

  for (const n of g.nodes) {
    switch (n.op) {
      case 'input':
        break;
      case 'quant_stub': {
        const s = site(n);
        layers.push({ id: n.id, op: 'quantize', inputs: [...n.inputs], scale: s.scale, dtype: s.dtype, rounding: qc.rounding });
        values[n.id] = { dtype: s.dtype, scales: [s.scale], shape: [...n.shape] };
        break;
      }
      case 'conv2d':
      case 'linear': {
        const ws = weights.get(n.id);
        if (!ws) throw new ConvertError(`${n.id}: no weight site`);
        const wf = param(n.params.weight);
        const wShape = g.params.find((p) => p.name === n.params.weight)!.shape;
        const wScales = weightScales(wf, ws.channels, ws.quantMin, ws.quantMax, march);
        const wq = quantizeWeights(wf, wScales, ws.quantMin, ws.quantMax, qc.rounding);
        const xScale = scalarScale(n.inputs[0]);
        const bias = quantizeBias(n.params.bias ? param(n.params.bias) : new Float32Array(ws.channels), xScale, wScales);
        let geometry: ConvGeometry | undefined;
        if (n.op === 'conv2d') {
          const c = n.attrs.conv!;
          geometry = { stride: pairOf(c.strideH, c.strideW), padding: pairOf(c.padH, c.padW), dilation: pairOf(c.dilationH, c.dilationW), groups: c.groups };
        }
        let addRescale: RequantParams | undefined;
        if (n.attrs.addInput) {
          if (n.op !== 'conv2d') throw new ConvertError(`${n.id}: addInput on a linear is not supported`);
          const aScale = scalarScale(n.inputs[1]);
          addRescale = requantParams(Array.from(wScales, (w) => aScale / (xScale * w)), march, bits);
        }
        if (int32.has(n.id)) {
          if (n.attrs.act || n.attrs.addInput) throw new ConvertError(`${n.id}: an int32 output cannot have a fused activation or add`);
          const scales = Array.from(wScales, (w) => Math.fround(Math.fround(xScale) * w));
          layers.push({ id: n.id, op: n.op, inputs: [...n.inputs], weight: wq, weightShape: [...wShape], bias, geometry, requant: null, clamp: dtypeClamp('int32') });
          values[n.id] = { dtype: 'int32', scales, shape: [...n.shape] };
          break;
        }
        const s = site(n);
        const spec = requantSpecFromScales('horizon', xScale, wScales, s.scale, { march, bits });
        if (spec.mode !== 'horizon') throw new Error('unreachable');
        layers.push({
          id: n.id, op: n.op, inputs: [...n.inputs], weight: wq, weightShape: [...wShape], bias, geometry,
          requant: { multiplier: spec.multiplier, shift: spec.shift }, addRescale, clamp: actClamp(n.attrs.act, s.scale, s.dtype),
        });
        values[n.id] = { dtype: s.dtype, scales: [s.scale], shape: [...n.shape] };
        break;
      }
      case 'add': {
        if (n.inputs.length !== 2) throw new ConvertError(`${n.id}: add of ${n.inputs.length} inputs`);
        const s = site(n);
        const params = computeAddParams('horizon', scalarScale(n.inputs[0]), scalarScale(n.inputs[1]), s.scale, { march });
        layers.push({ id: n.id, op: 'add', inputs: [...n.inputs], params, clamp: dtypeClamp(s.dtype) });
        values[n.id] = { dtype: s.dtype, scales: [s.scale], shape: [...n.shape] };
        break;
      }
      case 'relu':
      case 'relu6':
      case 'concat': {
        const s = site(n);
        const requant = n.inputs.map((i) => requantParams([scalarScale(i) / s.scale], march, bits));
        const clamp = n.op === 'concat' ? dtypeClamp(s.dtype) : actClamp(n.op, s.scale, s.dtype);
        layers.push({ id: n.id, op: 'rescale', kind: n.op, inputs: [...n.inputs], requant, clamp });
        values[n.id] = { dtype: s.dtype, scales: [s.scale], shape: [...n.shape] };
        break;
      }
      case 'avgpool2d':
      case 'global_avgpool': {
        const s = site(n);
        const xs = info(n.inputs[0]);
        const p = n.attrs.pool;
        const kernel: [number, number] | null = n.op === 'global_avgpool' ? null : [p!.kernelH, p!.kernelW];
        const count = kernel ? kernel[0] * kernel[1] : xs.shape[1] * xs.shape[2];
        layers.push({
          id: n.id, op: 'avgpool2d', inputs: [...n.inputs], kernel,
          stride: p ? pairOf(p.strideH, p.strideW) : [1, 1], padding: p ? pairOf(p.padH, p.padW) : [0, 0],
          // The 1/count of the mean needs a real multiplier even on bernoulli (where x_s / out_s is a power of two):
          // pooling always takes the multiplier + shift path (an assumption, docs/fixed-point.md §6).
          requant: requantParams([scalarScale(n.inputs[0]) / (s.scale * count)], 'bayes', bits), clamp: dtypeClamp(s.dtype),
        });
        values[n.id] = { dtype: s.dtype, scales: [s.scale], shape: [...n.shape] };
        break;
      }
      case 'maxpool2d': {
        const p = n.attrs.pool!;
        layers.push({ id: n.id, op: 'maxpool2d', inputs: [...n.inputs], kernel: pairOf(p.kernelH, p.kernelW), stride: pairOf(p.strideH, p.strideW), padding: pairOf(p.padH, p.padW) });
        values[n.id] = { ...info(n.inputs[0]), shape: [...n.shape] };
        break;
      }
      case 'flatten':
      case 'reshape':
      case 'identity': {
        const v = info(n.inputs[0]);
        if (v.scales.length !== 1 && n.op !== 'identity') throw new ConvertError(`${n.id}: reshape of a per-channel int32 value`);
        layers.push({ id: n.id, op: 'reshape', inputs: [...n.inputs] });
        values[n.id] = { ...v, shape: [...n.shape] };
        break;
      }
      case 'dequant_stub':
        info(n.inputs[0]);
        layers.push({ id: n.id, op: 'dequantize', inputs: [...n.inputs] });
        dequant = n;
        break;
      case 'batchnorm2d':
        throw new ConvertError(`${n.id}: an unfused batchnorm2d cannot be converted (fuse the graph first)`);
      default:
        throw new ConvertError(`${n.id}: op ${n.op} is not supported by the converter`);
    }
  }
  if (!dequant || g.output !== (dequant as GraphNode).id) throw new ConvertError(`graph ${g.name}: the output must be a DeQuantStub`);
  return {
    format: INT_MODEL_FORMAT, version: INT_MODEL_VERSION, name: g.name, march, mode: 'horizon', multiplierBits: bits,
    inputShape: [...g.inputShape], numClasses: g.numClasses, input: inputs[0].id, layers, values, output: g.output,
  };
}

/** Activation scales of a checkpoint's sites (qsite:ID:qparams = [scale, inv, zp]). */
export function checkpointActScales(qsites: HostParams): Record<string, number> {
  const out: Record<string, number> = {};
  for (const [k, v] of Object.entries(qsites)) {
    const m = /^qsite:(.*):qparams$/.exec(k);
    if (m) out[m[1]] = v[0];
  }
  return out;
}

/** A calib / qat checkpoint -> integer model (no backend needed). */
export function convertCheckpoint(c: QuantCheckpoint, o: ConvertOptions = {}): IntModel {
  return convert(prepare(c.graph, c.qconfig), c.params, checkpointActScales(c.qsites), o);
}

/** A live QuantizedModel -> integer model (reads the parameters and scales back from the backend). */
export async function convertQuantizedModel(qm: QuantizedModel, o: ConvertOptions = {}): Promise<IntModel> {
  const host = await qm.store.toHost();
  const { activations } = await qm.scales();
  return convert(qm.plan, host, activations, o);
}
