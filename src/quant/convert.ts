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
import { graphOutputs, type Graph, type GraphNode } from '../graph/ir.ts';
import type { HostParams } from '../nn/params.ts';
import { opDef } from '../ops/registry.ts';
import type { LowerCtx } from '../ops/types.ts';
import type { QDtype as FqDtype } from '../qmath/qparams.ts';
import { INT_MODEL_FORMAT, INT_MODEL_VERSION, type IntLayer, type IntModel, type OutClamp, type ValueInfo } from '../sim/model.ts';
import { DTYPE_RANGE, type QDType } from '../sim/int/requant.ts';
import { requantParams } from './int-weights.ts';
import { prepare, type QuantPlan } from './prepare.ts';
import type { QConfig } from './qconfig.ts';
import type { QuantizedModel } from './quantized-model.ts';
import type { QuantCheckpoint } from './quant-checkpoint.ts';
import { refuseAccumulatorOverflow } from './accumulator-refuse.ts';

/** Convert-time weight arithmetic, in its own module (shared with the op lowerings); re-exported for callers. */
export { quantizeWeights, weightScales } from './int-weights.ts';

export interface ConvertOptions {
  /** Width of conv/linear requant multipliers (default 32). */
  multiplierBits?: number;
  /**
   * Accumulators that can leave int32 and saturated biases (accumulator-bound.ts): 'report' (default) converts and
   * leaves them to the deployment report; 'refuse' throws a ConvertError naming them (docs/fixed-point.md §6.6).
   */
  accumulators?: 'report' | 'refuse';
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
  const dequant = new Set<string>();

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
  const actClamp = (act: string | undefined, scale: number, dtype: QDType): OutClamp => {
    const c = dtypeClamp(dtype);
    if (!act) return c;
    const role = opDef(act).fusion.act;
    if (!role) throw new ConvertError(`${act} is not an activation that can be fused`);
    const a = role.clamp(scale);
    return { lo: Math.max(c.lo, a.clampMin ?? c.lo), hi: Math.min(c.hi, a.clampMax ?? c.hi) };
  };
  const param = (name: string): Float32Array => {
    const p = params[name];
    if (!p) throw new ConvertError(`missing parameter ${name}`);
    return p;
  };
  const ctx: LowerCtx = {
    march, bits, rounding: qc.rounding, site, info, scalarScale, param,
    paramShape: (name) => {
      const p = g.params.find((x) => x.name === name);
      if (!p) throw new ConvertError(`graph ${g.name}: no parameter ${name}`);
      return p.shape;
    },
    weightSite: (n) => weights.get(n.id),
    int32Output: (n) => int32.has(n.id),
    dtypeClamp, actClamp, requantParams,
    fail: (reason) => { throw new ConvertError(reason); },
  };

  // Each node lowers through its OpDef (src/ops): the simulator layer it becomes and its value's integer domain.
  for (const n of g.nodes) {
    const def = opDef(n.op);
    if ('none' in def.int) throw new ConvertError(`${n.id}: ${def.int.none}`);
    const { layer, value } = def.int.lower(n, ctx);
    if (layer) layers.push(layer);
    if (value) values[n.id] = value;
    if (layer?.op === 'dequantize') dequant.add(n.id);
  }
  // Every output (any shape) is a DeQuantStub: the integer model dequantizes each, in the graph's order.
  const outs = graphOutputs(g);
  for (const id of outs) if (!dequant.has(id)) throw new ConvertError(`graph ${g.name}: output ${id} must be a DeQuantStub`);
  const model: IntModel = {
    format: INT_MODEL_FORMAT, version: INT_MODEL_VERSION, name: g.name, march, mode: 'horizon', multiplierBits: bits,
    inputShape: [...g.inputShape], numClasses: g.numClasses, input: inputs[0].id, layers, values, output: g.output,
    ...(outs.length > 1 ? { outputs: outs } : {}),
  };
  if (o.accumulators === 'refuse') refuseAccumulatorOverflow(model);
  return model;
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
