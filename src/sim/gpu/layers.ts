/**
 * The WGSL runs of the simulator's layer kinds (the GPU half of INT_LAYERS, src/sim/layers.ts), one entry per kind
 * that has one; runIntModelGpu (src/sim/run-gpu.ts) refuses a model with any other kind before it runs anything.
 * An entry: `upload` (optional) puts the layer's constants on the GPU once per (model, context); `run` records the
 * layer's dispatches on device-resident integer tensors. Bit-identical to the CPU runs (tests/sim-run-gpu.test.ts).
 *
 *  - conv2d / linear: the dense kernels with the horizon requantization and the clamp fused (prepareDense);
 *    a fused Conv+Add runs the conv to its int32 accumulator (bias included), then `add_requant` adds the
 *    rescaled add input (round half up of a·m[o] / 2^s[o], int32 wrap-around, as mulShiftRound + `| 0`) and
 *    requantizes;
 *  - add: the horizon add kernel; maxpool / avgpool: the pooling kernels (average: sums + requantization);
 *  - rescale (relu / relu6 / concat with their own scale): `rescale_into` requantizes each input into its
 *    channel range of the output;
 *  - mul / affine: `mul_requant` (the int32 product a·b, b per element or per channel, requantized) and
 *    `affine_requant` (requantization with the offset as the output zero point), words [0, m, s, offset];
 *  - lut (sigmoid, tanh, hardswish, ..., PReLU): the table lookup of src/sim/gpu/lut.ts;
 *  - reshape: the same GPU buffer under a new shape (run-gpu.ts reference-counts buffers);
 *  - const (a learned constant): its integers uploaded once, repeated over the batch by the gather kernel;
 *  - gather_channels (channel slice / shuffle): shaders/int_gather.wgsl copies the i32 words by channel index;
 *  - resize / conv_transpose2d: the accumulator kernels of src/sim/gpu/spatial.ts, then requantization;
 *  - transpose: shaders/transpose.wgsl on i32 words (src/sim/gpu/transpose.ts);
 *  - matmul: shaders/int_matmul.wgsl (src/sim/gpu/matmul.ts), int32 accumulation and requantization; an
 *    accumulator leaving int32 marks the run's status word (the CPU run's error, raised by run-gpu.ts);
 *  - softmax: shaders/int_softmax.wgsl (src/sim/gpu/softmax.ts), the exp table and the reciprocal in 64-bit integers;
 *  - float (float islands): a round trip to the CPU run (src/sim/gpu/float-island.ts says why);
 *  - layernorm: a row pass and an element pass of shaders/int_layernorm.wgsl (src/sim/gpu/layernorm.ts).
 */
import requantSrc from '../../../shaders/int_requant.wgsl';
import runSrc from '../../../shaders/int_sim_run.wgsl';
import gatherSrc from '../../../shaders/int_gather.wgsl';
import { grid1d, type GpuContext, type GpuTensor, type ParamValue } from '../../engine/webgpu/gpu-context.ts';
import { uniforms } from '../../engine/webgpu/uniforms.ts';
import type { IntLayer, IntLayerOp, IntModel, RequantParams, ValueInfo } from '../model.ts';
import type { LayerOf } from '../cpu/context.ts';
import type { OutputSpec, RequantSpec } from '../int/requant.ts';
import { SimError } from '../tensor.ts';
import { uploadBits, type GpuIntTensor } from './bits.ts';
import { layerNormGpu, uploadLayerNorm } from './layernorm.ts';
import { lutGpu, uploadLut } from './lut.ts';
import { convTransposeGpu, resizeGpu, uploadSpatial } from './spatial.ts';
import { transposeIntGpu } from './transpose.ts';
import { matmulIntGpu } from './matmul.ts';
import { softmaxIntGpu, uploadSoftmax } from './softmax.ts';
import { floatIslandGpu } from './float-island.ts';
import { add as gpuAdd, avgPool2d, conv2d, linear, maxPool2d, prepareDense, type GpuDenseLayer } from './kernels.ts';

/** A layer's constants on one context: a dense layer's weights, and/or i32 word buffers. */
export interface GpuLayerConsts {
  dense?: GpuDenseLayer;
  words: GpuTensor[];
}

export interface GpuRunCtx {
  ctx: GpuContext;
  model: IntModel;
  /** The integer domain of this layer's output value. */
  info: ValueInfo;
  /** Batch size. */
  N: number;
  /** What `upload` returned for this layer (no dense layer and no words when it has no `upload`). */
  consts: GpuLayerConsts;
  /** The run's status word (i32, 2^31 − 1 while all is well): a kernel that must refuse writes its layer's index. */
  status: GpuTensor;
  /** This layer's index in model.layers (the code it writes into `status`). */
  index: number;
  /** Throws the refusal of a layer that marked `status` so far (reads it back). */
  checkStatus: () => Promise<void>;
}

export interface GpuLayerRun<K extends IntLayerOp> {
  upload?: (ctx: GpuContext, l: LayerOf<K>, info: ValueInfo) => GpuLayerConsts;
  /** Records the dispatches; a promise where the run needs the CPU between layers (float islands). */
  run: (l: LayerOf<K>, ins: GpuIntTensor[], c: GpuRunCtx) => GpuIntTensor | Promise<GpuIntTensor>;
}

/** The uniforms of add_requant and rescale_into (shaders/int_sim_run.wgsl), declared once for WGSL and TypeScript. */
const ADD_RQ = uniforms('AddRq', { total: 'u32', inner: 'u32', channels: 'u32', lo: 'i32', hi: 'i32' });
const INTO = uniforms('Into', { total: 'u32', per: 'u32', stride: 'u32', offset: 'u32', lo: 'i32', hi: 'i32' });
const MUL_RQ = uniforms('MulRq', { total: 'u32', inner: 'u32', lo: 'i32', hi: 'i32' });
const AFF_RQ = uniforms('AffRq', { total: 'u32', lo: 'i32', hi: 'i32' });
const RUN_SHADER = { key: 'sim-run-gpu', code: `${requantSrc}\n${ADD_RQ.wgsl}\n${INTO.wgsl}\n${MUL_RQ.wgsl}\n${AFF_RQ.wgsl}\n${runSrc}` };
/** The uniforms of shaders/int_gather.wgsl (channel slice / shuffle). */
const GATHER = uniforms('Gather', { total: 'u32', inner: 'u32', in_c: 'u32', out_c: 'u32' });
const GATHER_SHADER = { key: 'sim-gather', code: `${GATHER.wgsl}\n${gatherSrc}` };

const horizon = (r: RequantParams): RequantSpec => ({ mode: 'horizon', multiplier: r.multiplier, shift: r.shift });
const clampOut = (info: ValueInfo, l: { clamp: { lo: number; hi: number } }): OutputSpec => ({ dtype: info.dtype, clampMin: l.clamp.lo, clampMax: l.clamp.hi });
/** Words [0, m, s, offset] of a per-tensor requantization (mul_requant, affine_requant, rescale_into). */
const scalarWords = (ctx: GpuContext, r: RequantParams, offset = 0) => uploadBits(ctx, Int32Array.of(0, r.multiplier[0], r.shift[0], offset), [4]);

function uploadDense(ctx: GpuContext, l: LayerOf<'conv2d' | 'linear'>, info: ValueInfo): GpuLayerConsts {
  const fusedAdd = l.op === 'conv2d' && l.addRescale !== undefined;
  // int32 outputs and fused adds: the accumulator (bias included); otherwise requantization + clamp in the kernel
  const spec = l.requant && !fusedAdd ? horizon(l.requant) : null;
  const out: OutputSpec = spec ? clampOut(info, l) : { dtype: 'int32' };
  const dense = prepareDense(ctx, l.op, l.weight, l.weightShape, l.bias, spec, out);
  if (!fusedAdd) return { dense, words: [] };
  if (!l.requant) throw new SimError(`${l.id}: a fused add needs a requantized output`);
  const O = l.weightShape[0];
  const w = new Int32Array(4 * O);
  const pick = (a: Int32Array, o: number) => a[a.length === 1 ? 0 : o];
  for (let o = 0; o < O; o++) {
    w[4 * o] = pick(l.requant.multiplier, o);
    w[4 * o + 1] = pick(l.requant.shift, o);
    w[4 * o + 2] = pick(l.addRescale!.multiplier, o);
    w[4 * o + 3] = pick(l.addRescale!.shift, o);
  }
  return { dense, words: [uploadBits(ctx, w, [w.length])] };
}

/** An elementwise entry of shaders/int_sim_run.wgsl into a new buffer of `total` words (no dispatch when empty). */
function runElementwise(ctx: GpuContext, entry: string, inputs: GpuTensor[], total: number, params: readonly ParamValue[]): GpuTensor {
  const out = ctx.empty([total]);
  if (total > 0) ctx.run({ key: RUN_SHADER.key, code: RUN_SHADER.code, entry, inputs, outputs: [out], params, workgroups: grid1d(total) });
  return out;
}

export const GPU_LAYERS: { [K in IntLayerOp]?: GpuLayerRun<K> } = {
  conv2d: {
    upload: uploadDense,
    run(l, ins, { ctx, info, consts }) {
      const g = l.geometry!;
      const y = conv2d(ctx, ins[0], 0, consts.dense!, { stride: g.stride, padding: g.padding, dilation: g.dilation, groups: g.groups });
      if (!l.addRescale) return y;
      const a = ins[1];
      if (a.t.size !== y.t.size) throw new SimError(`${l.id}: add input has ${a.t.size} values, conv output ${y.t.size}`);
      const [, O, OH, OW] = y.shape;
      const out = runElementwise(ctx, 'add_requant', [y.t, a.t, consts.words[0]], y.t.size,
        ADD_RQ.pack({ total: y.t.size, inner: OH * OW, channels: O, lo: l.clamp.lo, hi: l.clamp.hi }));
      ctx.release(y.t);
      return { t: out, dtype: info.dtype, shape: y.shape };
    },
  },
  linear: {
    upload: uploadDense,
    run(l, [x], { ctx, N, info, consts }) {
      // one row per sample, or per token of [N, T, K] tokens
      const K = l.weightShape[1];
      const tokens = info.shape.length > 1;
      if (tokens ? x.shape[x.shape.length - 1] !== K : x.t.size !== N * K) throw new SimError(`${l.id}: input [${x.shape}] does not fit the weights' ${K} features`);
      const y = linear(ctx, { ...x, shape: [x.t.size / K, K] }, 0, consts.dense!);
      return tokens ? { ...y, shape: [N, ...info.shape] } : y;
    },
  },
  add: { run: (l, [a, b], { ctx, info }) => gpuAdd(ctx, a, 0, b, 0, l.params, clampOut(info, l)) },
  rescale: {
    upload: (ctx, l) => ({ words: l.requant.map((r) => scalarWords(ctx, r)) }),
    run(l, ins, { ctx, info, N, consts }) {
      const per = ins.map((t) => t.t.size / N);
      const total = per.reduce((s, v) => s + v, 0);
      const out = ctx.empty([N * total]);
      let offset = 0;
      ins.forEach((t, i) => {
        if (t.t.size > 0) {
          ctx.run({
            key: RUN_SHADER.key, code: RUN_SHADER.code, entry: 'rescale_into', inputs: [t.t, consts.words[i]], outputs: [out],
            params: INTO.pack({ total: t.t.size, per: per[i], stride: total, offset, lo: l.clamp.lo, hi: l.clamp.hi }), workgroups: grid1d(t.t.size),
          });
        }
        offset += per[i];
      });
      return { t: out, dtype: info.dtype, shape: ins.length === 1 ? [...ins[0].shape] : [N, ...info.shape] };
    },
  },
  maxpool2d: { run: (l, [x], { ctx }) => maxPool2d(ctx, x, { kernel: l.kernel, stride: l.stride, padding: l.padding, ceilMode: l.ceilMode }) },
  avgpool2d: {
    run(l, [x], { ctx, info, N }) {
      const kernel = l.kernel ?? [x.shape[2], x.shape[3]];
      const geom = { kernel, stride: l.kernel ? l.stride : kernel, padding: l.padding, ceilMode: l.ceilMode };
      const byCount = l.requant.multiplier.length > 1 ? { includePad: l.countIncludePad ?? true } : undefined;
      const y = avgPool2d(ctx, x, 0, geom, horizon(l.requant), clampOut(info, l), byCount);
      return { ...y, shape: [N, ...info.shape] };
    },
  },
  mul: {
    upload: (ctx, l) => ({ words: [scalarWords(ctx, l.requant)] }),
    run(l, [a, b], { ctx, info, consts }) {
      if (!b.t.size || a.t.size % b.t.size) throw new SimError(`${l.id}: b has ${b.t.size} values, a ${a.t.size}`);
      const out = runElementwise(ctx, 'mul_requant', [a.t, b.t, consts.words[0]], a.t.size,
        MUL_RQ.pack({ total: a.t.size, inner: a.t.size / b.t.size, lo: l.clamp.lo, hi: l.clamp.hi }));
      return { t: out, dtype: info.dtype, shape: [...a.shape] };
    },
  },
  affine: {
    upload: (ctx, l) => ({ words: [scalarWords(ctx, l.requant, l.offset)] }),
    run(l, [x], { ctx, info, consts }) {
      const out = runElementwise(ctx, 'affine_requant', [x.t, consts.words[0]], x.t.size, AFF_RQ.pack({ total: x.t.size, lo: l.clamp.lo, hi: l.clamp.hi }));
      return { t: out, dtype: info.dtype, shape: [...x.shape] };
    },
  },
  lut: {
    upload: (ctx, l) => ({ words: [uploadLut(ctx, l)] }),
    run: (l, [x], { ctx, info, consts }) => lutGpu(ctx, x, consts.words[0], l, info.dtype),
  },
  reshape: { run: (_l, [x], { info, N }) => ({ ...x, shape: [N, ...info.shape] }) },
  // the constant's integers uploaded once; the gather kernel with in_c = 0 reads the same rows for every sample
  const: {
    upload: (ctx, l, info) => {
      const [J] = info.shape;
      return { words: [uploadBits(ctx, Int32Array.from(l.data), [l.data.length]), uploadBits(ctx, Int32Array.from({ length: J }, (_, j) => j), [J])] };
    },
    run(l, _ins, { ctx, info, N, consts }) {
      const [J, ...rest] = info.shape;
      const inner = rest.reduce((a, b) => a * b, 1);
      const out = ctx.empty([N * l.data.length]);
      if (out.size > 0) {
        ctx.run({
          key: GATHER_SHADER.key, code: GATHER_SHADER.code, entry: 'gather_channels', inputs: [consts.words[0], consts.words[1]], outputs: [out],
          params: GATHER.pack({ total: out.size, inner, in_c: 0, out_c: J }), workgroups: grid1d(out.size),
        });
      }
      return { t: out, dtype: info.dtype, shape: [N, ...info.shape] };
    },
  },
  gather_channels: {
    upload: (ctx, l) => ({ words: [uploadBits(ctx, Int32Array.from(l.index), [l.index.length])] }),
    run(l, [x], { ctx, N, consts }) {
      const [, C, ...rest] = x.shape;
      const inner = rest.reduce((a, b) => a * b, 1);
      if (l.index.some((i) => i >= C)) throw new SimError(`${l.id}: channel index outside the input's ${C} channels`);
      const J = l.index.length;
      const out = ctx.empty([N * J * inner]);
      if (out.size > 0) {
        ctx.run({
          key: GATHER_SHADER.key, code: GATHER_SHADER.code, entry: 'gather_channels', inputs: [x.t, consts.words[0]], outputs: [out],
          params: GATHER.pack({ total: out.size, inner, in_c: C, out_c: J }), workgroups: grid1d(out.size),
        });
      }
      return { t: out, dtype: x.dtype, shape: [N, J, ...rest] };
    },
  },
  resize: {
    upload: (ctx, l) => ({ words: [uploadSpatial(ctx, l)] }),
    run: (l, [x], { ctx, info, consts }) => resizeGpu(ctx, x, consts.words[0], l, info),
  },
  conv_transpose2d: {
    upload: (ctx, l) => ({ words: [uploadSpatial(ctx, l)] }),
    run: (l, [x], { ctx, info, consts }) => convTransposeGpu(ctx, x, consts.words[0], l, info),
  },
  // perm is per sample: the batch axis stays first
  transpose: { run: (l, [x], { ctx }) => transposeIntGpu(ctx, x, [0, ...l.perm.map((p) => p + 1)]) },
  matmul: { run: (l, [a, b], { ctx, info, status, index }) => matmulIntGpu(ctx, a, b, { transB: l.transB, requant: l.requant, dtype: info.dtype, lo: l.clamp.lo, hi: l.clamp.hi, status, code: index }) },
  softmax: { upload: (ctx, l) => ({ words: [uploadSoftmax(ctx, l)] }), run: (l, [x], { ctx, info, consts }) => softmaxIntGpu(ctx, x, consts.words[0], l, info.dtype) },
  float: { run: floatIslandGpu },
  layernorm: { upload: (ctx, l) => ({ words: [uploadLayerNorm(ctx, l)] }), run: (l, [x], { ctx, info, consts }) => layerNormGpu(ctx, x, consts.words[0], l, info.dtype) },
};

/** Whether a layer's kind has a WGSL run. */
export const hasGpuRun = (l: IntLayer): boolean => GPU_LAYERS[l.op] !== undefined;

// The table is keyed by kind, so each entry takes exactly its kind's layer: the casts below only restate that.
type AnyRun = { upload?: (ctx: GpuContext, l: IntLayer, info: ValueInfo) => GpuLayerConsts; run: (l: IntLayer, ins: GpuIntTensor[], c: GpuRunCtx) => GpuIntTensor | Promise<GpuIntTensor> };
const entry = (l: IntLayer): AnyRun | undefined => GPU_LAYERS[l.op] as AnyRun | undefined;

/** Uploads a layer's constants (null: its kind has none). */
export function uploadGpuLayer(ctx: GpuContext, l: IntLayer, info: ValueInfo): GpuLayerConsts | null {
  const upload = entry(l)?.upload;
  return upload ? upload(ctx, l, info) : null;
}

/** Records a layer's dispatches; a kind without a WGSL run is a SimError naming the layer. */
export function runGpuLayer(l: IntLayer, ins: GpuIntTensor[], c: GpuRunCtx): GpuIntTensor | Promise<GpuIntTensor> {
  const e = entry(l);
  if (!e) throw new SimError(`${l.id}: ${l.op} layers have no GPU kernel; run the model on the CPU simulator`);
  return e.run(l, ins, c);
}
