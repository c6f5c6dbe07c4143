/**
 * The simulator's layer kinds (IntLayer['op'], src/sim/model.ts): what each op of the operator registry (src/ops)
 * lowers to. One entry per kind, so a new kind is a type error until it has every part:
 *   validate  structural checks of a decoded layer (src/sim/model-file.ts)
 *   cost      parameter bytes and MACs for the performance estimate (src/perf/estimate.ts); `view`: moves no data
 *   range     the integer range of its output from its inputs' ranges (src/quant/accumulator-bound.ts; null: not
 *             an integer value)
 *   accumulator  layers that accumulate in int32: the worst-case accumulator (the same check; src/sim/int/accumulator.ts)
 *   cpu       its run on the CPU (src/sim/cpu/*.ts: fast paths over the reference kernels of src/sim/int/), called
 *             by execLayer / runIntModel (src/sim/run.ts)
 * The WGSL run of a kind, where it has one, is its entry in GPU_LAYERS (src/sim/gpu/layers.ts; kept apart so that
 * this table, read by the model file and the perf estimate, pulls in no shader). runIntModelGpu refuses a model
 * with a kind that has no GPU entry before it runs anything.
 */
import { avgPoolAccumulator, clampRange, denseAccumulator, denseRange, inputRange, type AccumulatorRange, type Range, type RangeOf } from './int/accumulator.ts';
import { DTYPE_RANGE } from './int/requant.ts';
import { convTransposeAccumulator } from './int/conv-transpose.ts';
import { resizeAccumulator } from './int/resize.ts';
import type { IntLayer, IntLayerOp, IntModel } from './model.ts';
import type { CpuRun, LayerOf } from './cpu/context.ts';
import { conv2dCpu, linearCpu } from './cpu/dense.ts';
import { addCpu, affineCpu, lutCpu, mulCpu, rescaleCpu } from './cpu/eltwise.ts';
import { avgpool2dCpu, constCpu, gatherChannelsCpu, maxpool2dCpu, reshapeCpu } from './cpu/pool-shape.ts';
import { convTranspose2dCpu, resizeCpu } from './cpu/spatial.ts';
import { floatIslandCpu, layernormCpu, matmulCpu, softmaxCpu, transposeCpu } from './cpu/tokens.ts';
import { BETA_BITS, GAMMA_BITS, RSQRT_SEG_BITS } from './int/layernorm.ts';
import { SimError } from './tensor.ts';

export interface IntLayerDef<K extends IntLayerOp> {
  validate: (l: LayerOf<K>, fail: (reason: string) => never) => void;
  cost: {
    /** Multiply-accumulates per sample. */
    macs: (l: LayerOf<K>, m: IntModel) => number;
    /** Weights, bias and requantization parameters. */
    paramBytes: (l: LayerOf<K>) => number;
    /** A view of its input: no traffic, no time. */
    view?: true;
  };
  range: (l: LayerOf<K>, of: RangeOf) => Range | null;
  accumulator?: (l: LayerOf<K>, of: RangeOf, m: IntModel) => AccumulatorRange;
  /** The CPU run (integer inputs, full shapes, batch first). */
  cpu: CpuRun<K>;
}

const prod = (s: readonly number[]) => s.reduce((a, b) => a * b, 1);
const none = () => 0;
const ok = () => {};
const noRange = () => null;
/** quantize / dequantize are the float boundary: runIntModel handles them itself. */
const boundary: CpuRun<'quantize' | 'dequantize'> = (l) => {
  throw new SimError(`execLayer: ${l.op} is a boundary layer`);
};

function validateDense(l: LayerOf<'conv2d' | 'linear'>, fail: (reason: string) => never): void {
  if (!(l.weight instanceof Int8Array) || !(l.bias instanceof Int32Array)) fail(`layer ${l.id}: weight / bias are not int8 / int32 tensors`);
  const n = prod(l.weightShape);
  if (l.weight.length !== n) fail(`layer ${l.id}: weight has ${l.weight.length} values, shape [${l.weightShape}] needs ${n}`);
  if (l.bias.length !== l.weightShape[0]) fail(`layer ${l.id}: bias length ${l.bias.length} != ${l.weightShape[0]} output channels`);
  if (l.requant && (!(l.requant.multiplier instanceof Int32Array) || l.requant.multiplier.length !== l.weightShape[0])) {
    fail(`layer ${l.id}: requant multipliers missing or of the wrong length`);
  }
}

function validateAvgPool(l: LayerOf<'avgpool2d'>, fail: (reason: string) => never): void {
  const n = l.requant.multiplier.length;
  const area = l.kernel ? l.kernel[0] * l.kernel[1] : 1;
  if (!(n === 1 || (n === area && l.kernel)) || l.requant.shift.length !== n) fail(`layer ${l.id}: ${n} requant multipliers for a ${l.kernel ? l.kernel.join('x') : 'global'} pool`);
}

function validateScalarRequant(l: LayerOf<'mul' | 'affine' | 'matmul'>, fail: (reason: string) => never): void {
  const r = l.requant;
  if (!(r.multiplier instanceof Int32Array) || r.multiplier.length !== 1 || r.shift.length !== 1 || r.multiplier[0] < 0) fail(`layer ${l.id}: needs one non-negative requant multiplier`);
  if (l.op === 'affine' && !Number.isSafeInteger(l.offset)) fail(`layer ${l.id}: offset ${l.offset} is not an integer`);
}

function validateLut(l: LayerOf<'lut'>, fail: (reason: string) => never): void {
  if (!(l.knots instanceof Int32Array) || !(l.segs instanceof Int32Array)) fail(`layer ${l.id}: table / segments are not int32 tensors`);
  const segments = 2 ** (l.inOffset === 32768 ? 16 - l.segBits : 8 - l.segBits);
  if (!Number.isInteger(segments) || l.segs.length !== 2 * l.channels * segments) fail(`layer ${l.id}: ${l.segs.length / 2} table segments, expected ${l.channels} x ${segments}`);
  for (let i = 0; i < l.segs.length; i += 2) {
    const [start, e] = [l.segs[i], l.segs[i + 1]];
    const count = e === 0 ? 2 ** l.segBits : (2 ** l.segBits >> e) + 1;
    if (e < 0 || e > l.segBits || start < 0 || start + count > l.knots.length) fail(`layer ${l.id}: table segment ${i / 2} [${start}, e ${e}] is outside the table (${l.knots.length} entries)`);
  }
}

function validateLayerNorm(l: LayerOf<'layernorm'>, fail: (reason: string) => never): void {
  if (!(l.rsqrtTable instanceof Int32Array) || l.rsqrtTable.length !== 3 * 2 ** RSQRT_SEG_BITS + 1) fail(`layer ${l.id}: layer norm needs a ${3 * 2 ** RSQRT_SEG_BITS + 1}-entry reciprocal square root table`);
  if (!(l.gamma instanceof Int32Array) || !Array.isArray(l.beta) || l.gamma.length !== l.beta.length) fail(`layer ${l.id}: layer norm gamma / beta are not one int32 / integer per feature`);
  if (l.gamma.some((g) => Math.abs(g) >= 2 ** GAMMA_BITS)) fail(`layer ${l.id}: a gamma multiplier needs more than ${GAMMA_BITS} bits`);
  if (l.beta.some((b) => !Number.isSafeInteger(b) || Math.abs(b) >= 2 ** BETA_BITS)) fail(`layer ${l.id}: a beta offset is not an integer below 2^${BETA_BITS}`);
  if (!(Number.isInteger(l.preShift) && l.preShift >= 0 && l.preShift % 2 === 0 && l.preShift <= 52)) fail(`layer ${l.id}: layer norm preShift ${l.preShift} is not an even number of bits`);
  if (!(Number.isSafeInteger(l.epsInt) && l.epsInt >= 0)) fail(`layer ${l.id}: layer norm eps ${l.epsInt} is not a non-negative integer`);
  if (!(Number.isInteger(l.outShift) && l.outShift >= 0 && l.outShift <= 62)) fail(`layer ${l.id}: layer norm outShift ${l.outShift} outside 0..62`);
}

const denseCost: IntLayerDef<'conv2d' | 'linear'>['cost'] = {
  macs: (l, m) => prod(m.values[l.id].shape) * prod(l.weightShape.slice(1)),
  paramBytes: (l) => {
    const O = l.weightShape[0];
    return l.weight.length + 4 * O + (l.requant ? 5 * O : 0) + ('addRescale' in l && l.addRescale ? 5 * O : 0);
  },
};

export const INT_LAYERS = {
  quantize: { validate: ok, cost: { macs: none, paramBytes: none }, range: (l) => [...DTYPE_RANGE[l.dtype]] as Range, cpu: boundary },
  conv2d: { validate: validateDense, cost: denseCost, range: denseRange, accumulator: denseAccumulator, cpu: conv2dCpu },
  linear: { validate: validateDense, cost: denseCost, range: denseRange, accumulator: denseAccumulator, cpu: linearCpu },
  add: { validate: ok, cost: { macs: none, paramBytes: none }, range: clampRange, cpu: addCpu },
  // one multiplier (4 bytes) and shift (1 byte)
  rescale: { validate: ok, cost: { macs: none, paramBytes: () => 5 }, range: clampRange, cpu: rescaleCpu },
  maxpool2d: { validate: ok, cost: { macs: none, paramBytes: none }, range: inputRange, cpu: maxpool2dCpu },
  avgpool2d: { validate: validateAvgPool, cost: { macs: none, paramBytes: (l) => 5 * l.requant.multiplier.length }, range: clampRange, accumulator: avgPoolAccumulator, cpu: avgpool2dCpu },
  mul: { validate: validateScalarRequant, cost: { macs: (l, m) => prod(m.values[l.id].shape), paramBytes: () => 5 }, range: clampRange, cpu: mulCpu },
  affine: { validate: validateScalarRequant, cost: { macs: none, paramBytes: () => 9 }, range: clampRange, cpu: affineCpu },
  // one table read (two and a multiply-add for an interpolated int16 input) per element; the table is the parameter
  lut: { validate: validateLut, cost: { macs: none, paramBytes: (l) => 4 * (l.knots.length + l.segs.length) }, range: clampRange, cpu: lutCpu },
  const: {
    validate: (l, fail) => {
      if (!(l.data instanceof Int8Array || l.data instanceof Int16Array) || l.inputs.length) fail(`layer ${l.id}: a constant needs int8 / int16 data and no inputs`);
    },
    cost: { macs: none, paramBytes: (l) => l.data.byteLength },
    range: (l) => [Math.min(...l.data), Math.max(...l.data)] as Range,
    cpu: constCpu,
  },
  reshape: { validate: ok, cost: { macs: none, paramBytes: none, view: true }, range: inputRange, cpu: reshapeCpu },
  gather_channels: {
    validate: (l, fail) => {
      if (!Array.isArray(l.index) || !l.index.length || !l.index.every((i) => Number.isInteger(i) && i >= 0)) {
        fail(`layer ${l.id}: gather_channels needs a non-empty list of channel indices`);
      }
    },
    // one channel index (4 bytes) per output channel
    cost: { macs: none, paramBytes: (l) => 4 * l.index.length },
    range: inputRange,
    cpu: gatherChannelsCpu,
  },
  transpose: {
    validate: (l, fail) => {
      if (!Array.isArray(l.perm) || [...l.perm].sort((a, b) => a - b).some((p, i) => p !== i)) fail(`layer ${l.id}: transpose perm ${JSON.stringify(l.perm)} is not a permutation`);
    },
    cost: { macs: none, paramBytes: none },
    range: inputRange,
    cpu: transposeCpu,
  },
  matmul: {
    validate: validateScalarRequant,
    // K multiply-accumulates per output element: K is the inner size of the first input
    cost: { macs: (l, m) => prod(m.values[l.id].shape) * m.values[l.inputs[0]].shape[m.values[l.inputs[0]].shape.length - 1], paramBytes: () => 5 },
    range: clampRange,
    cpu: matmulCpu,
  },
  softmax: {
    validate: (l, fail) => {
      if (!(l.expTable instanceof Int32Array) || !l.expTable.length || !Number.isSafeInteger(l.recip) || !(l.recip > 0)) fail(`layer ${l.id}: softmax needs an exp table and a positive reciprocal`);
    },
    // the exp table is the parameter; a lookup, a sum and a multiply per element
    cost: { macs: none, paramBytes: (l) => 4 * l.expTable.length + 8 },
    range: clampRange,
    cpu: softmaxCpu,
  },
  layernorm: {
    validate: validateLayerNorm,
    // two sums of the row, then a multiply (x̂) and a multiply-add (gamma, beta) per element; the table and the
    // per-feature gamma (4 bytes) and beta (8 bytes) are the parameters
    cost: { macs: (l, m) => 3 * prod(m.values[l.id].shape), paramBytes: (l) => 4 * l.rsqrtTable.length + 12 * l.gamma.length + 12 },
    range: clampRange,
    cpu: layernormCpu,
  },
  // a float island runs on the CPU, not the BPU: no BPU MACs; its int8 weights and float parameters still ship
  float: {
    validate: (l, fail) => {
      const kinds = ['transpose', 'matmul', 'softmax', 'layernorm', 'gelu', 'linear'];
      if (!l.fn || !kinds.includes(l.fn.kind)) fail(`layer ${l.id}: float island of unknown kind ${JSON.stringify(l.fn?.kind)}`);
      if (l.fn.kind === 'linear' && (!(l.fn.weight instanceof Int8Array) || l.fn.weight.length !== prod(l.fn.weightShape))) fail(`layer ${l.id}: float linear weight does not match [${l.fn.weightShape}]`);
    },
    cost: {
      macs: none,
      paramBytes: (l) => (l.fn.kind === 'linear' ? l.fn.weight.length + 4 * (l.fn.weightScales.length + (l.fn.bias?.length ?? 0)) : l.fn.kind === 'layernorm' ? 8 * l.fn.gamma.length : 0),
    },
    range: clampRange,
    cpu: floatIslandCpu,
  },
  // two taps per axis: 4 multiply-adds per output element (nearest: a copy); the tables are the parameters
  resize: {
    validate: (l, fail) => {
      for (const t of [l.rows, l.cols]) {
        if (!(t.index instanceof Int32Array) || !(t.weight instanceof Int32Array) || t.index.length !== t.weight.length || t.index.length % 2) fail(`layer ${l.id}: resize tables are not pairs of int32 taps`);
      }
      if (!(Number.isInteger(l.fracBits) && l.fracBits >= 0 && l.fracBits <= 15)) fail(`layer ${l.id}: resize fracBits ${l.fracBits} outside 0..15`);
      if (!(Number.isInteger(l.midShift) && l.midShift >= 0 && l.midShift <= l.fracBits)) fail(`layer ${l.id}: resize midShift ${l.midShift} outside 0..${l.fracBits}`);
    },
    cost: {
      macs: (l, m) => (l.requant ? 4 * prod(m.values[l.id].shape) : 0),
      paramBytes: (l) => 4 * (l.rows.index.length + l.rows.weight.length + l.cols.index.length + l.cols.weight.length) + (l.requant ? 5 : 0),
    },
    range: (l, of) => (l.requant ? clampRange(l) : inputRange(l, of)),
    accumulator: resizeAccumulator,
    cpu: resizeCpu,
  },
  conv_transpose2d: {
    validate: (l, fail) => {
      if (!(l.weight instanceof Int8Array) || !(l.bias instanceof Int32Array)) fail(`layer ${l.id}: weight / bias are not int8 / int32 tensors`);
      if (l.weight.length !== prod(l.weightShape) || l.weightShape.length !== 4) fail(`layer ${l.id}: weight has ${l.weight.length} values for shape [${l.weightShape}]`);
      const O = l.weightShape[0];
      if (O % l.geometry.groups) fail(`layer ${l.id}: ${O} output channels do not split into ${l.geometry.groups} groups`);
      if (l.bias.length !== O) fail(`layer ${l.id}: bias length ${l.bias.length} != ${O} output channels`);
      if (l.requant && l.requant.multiplier.length !== O) fail(`layer ${l.id}: requant multipliers of the wrong length`);
    },
    cost: {
      // every input element times every tap of its group's output channels
      macs: (l, m) => {
        const [, H, W] = m.values[l.inputs[0]]?.shape ?? [0, 0, 0];
        return H * W * l.weight.length;
      },
      paramBytes: (l) => l.weight.length + 4 * l.bias.length + (l.requant ? 5 * l.bias.length : 0),
    },
    range: (l, of) => (l.requant ? clampRange(l) : convTransposeAccumulator(l, of).range),
    accumulator: convTransposeAccumulator,
    cpu: convTranspose2dCpu,
  },
  dequantize: { validate: ok, cost: { macs: none, paramBytes: none }, range: noRange, cpu: boundary },
} satisfies { [K in IntLayerOp]: IntLayerDef<K> };

export function isIntLayerOp(s: string): s is IntLayerOp {
  return Object.hasOwn(INT_LAYERS, s);
}

/** The entry of a layer's kind, typed for that layer. */
export function intLayerDef<L extends IntLayer>(l: L): IntLayerDef<L['op']> {
  return INT_LAYERS[l.op] as unknown as IntLayerDef<L['op']>;
}
