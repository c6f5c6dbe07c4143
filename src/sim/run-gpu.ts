/**
 * The fixed-point simulator on the GPU: runs an IntModel (src/quant/convert.ts) layer by layer on the WGSL integer
 * kernels (src/sim/gpu/kernels.ts), with every activation resident on the GPU between layers: one upload (the
 * quantized input) and one read-back (the integer output) per batch, plus a read-back per requested dump.
 * Bit-identical to runIntModel (src/sim/run.ts; tests/sim-run-gpu.test.ts compares them on converted models).
 *
 *  - quantize (QuantStub): on the CPU (quantizeInput, the float boundary), then uploaded as i32 words;
 *  - conv2d / linear: the dense kernels with the horizon requantization and the clamp fused (prepareDense);
 *    a fused Conv+Add runs the conv to its int32 accumulator (bias included), then `add_requant` below adds the
 *    rescaled add input (round half up of a·m[o] / 2^s[o], int32 wrap-around, as mulShiftRound + `| 0`) and
 *    requantizes;
 *  - add: the horizon add kernel; maxpool / avgpool: the pooling kernels (average: sums + requantization);
 *  - rescale (relu / relu6 / concat with their own scale): `rescale_into` below requantizes each input into its
 *    channel range of the output;
 *  - mul / affine: `mul_requant` (the int32 product a·b, b per element or per channel, requantized) and
 *    `affine_requant` (requantization with the offset as the output zero point), words [0, m, s, offset];
 *  - lut (sigmoid, tanh, hardswish, ..., PReLU): the table lookup of src/sim/gpu/lut.ts, table uploaded once;
 *  - reshape: the same GPU buffer under a new shape (reference counted);
 *  - gather_channels (channel slice / shuffle): shaders/int_gather.wgsl copies the i32 words by channel index;
 *  - dequantize (DeQuantStub): read back, then dequantizeOutput on the CPU.
 *
 * Weights, biases and requantization words are uploaded once per (model, context) and cached; `releaseGpuModel`
 * frees them.
 */
import requantSrc from '../../shaders/int_requant.wgsl';
import runSrc from '../../shaders/int_sim_run.wgsl';
import gatherSrc from '../../shaders/int_gather.wgsl';
import { grid1d, type GpuContext, type GpuTensor } from '../engine/webgpu/gpu-context.ts';
import { uniforms } from '../engine/webgpu/uniforms.ts';
import type { IntLayer, IntModel, RequantParams } from './model.ts';
import { assertNever } from './assert-never.ts';
import { readInt, uploadBits, uploadInt, type GpuIntTensor } from './gpu/bits.ts';
import { lutGpu, uploadLut } from './gpu/lut.ts';
import { add as gpuAdd, avgPool2d, conv2d, linear, maxPool2d, prepareDense, releaseDense, type GpuDenseLayer } from './gpu/kernels.ts';
import type { OutputSpec, RequantSpec } from './int/requant.ts';
import { dequantizeOutput, orderOutputs, quantizeInput, SimError, type IntTensor, type SimOutput, type SimRunOptions, type SimRunResult } from './run.ts';

/** The uniforms of add_requant and rescale_into (shaders/int_sim_run.wgsl), declared once for WGSL and TypeScript. */
const ADD_RQ = uniforms('AddRq', { total: 'u32', inner: 'u32', channels: 'u32', lo: 'i32', hi: 'i32' });
const INTO = uniforms('Into', { total: 'u32', per: 'u32', stride: 'u32', offset: 'u32', lo: 'i32', hi: 'i32' });
const MUL_RQ = uniforms('MulRq', { total: 'u32', inner: 'u32', lo: 'i32', hi: 'i32' });
const AFF_RQ = uniforms('AffRq', { total: 'u32', lo: 'i32', hi: 'i32' });
const RUN_SHADER = { key: 'sim-run-gpu', code: `${requantSrc}\n${ADD_RQ.wgsl}\n${INTO.wgsl}\n${MUL_RQ.wgsl}\n${AFF_RQ.wgsl}\n${runSrc}` };
/** The uniforms of shaders/int_gather.wgsl (channel slice / shuffle). */
const GATHER = uniforms('Gather', { total: 'u32', inner: 'u32', in_c: 'u32', out_c: 'u32' });
const GATHER_SHADER = { key: 'sim-gather', code: `${GATHER.wgsl}\n${gatherSrc}` };

/** A model's layers uploaded to one context. */
interface GpuModel {
  dense: Map<string, GpuDenseLayer>;
  /** Per-layer requantization words of add_requant / rescale_into. */
  words: Map<string, GpuTensor[]>;
}

const cache = new WeakMap<IntModel, Map<GpuContext, GpuModel>>();

const horizon = (r: RequantParams): RequantSpec => ({ mode: 'horizon', multiplier: r.multiplier, shift: r.shift });

function prepareModel(model: IntModel, ctx: GpuContext): GpuModel {
  let byCtx = cache.get(model);
  if (!byCtx) cache.set(model, (byCtx = new Map()));
  const hit = byCtx.get(ctx);
  if (hit) return hit;
  const gm: GpuModel = { dense: new Map(), words: new Map() };
  for (const l of model.layers) {
    const info = model.values[l.id];
    if (l.op === 'conv2d' || l.op === 'linear') {
      const fusedAdd = l.op === 'conv2d' && l.addRescale !== undefined;
      // int32 outputs and fused adds: the accumulator (bias included); otherwise requantization + clamp in the kernel
      const spec = l.requant && !fusedAdd ? horizon(l.requant) : null;
      const out: OutputSpec = spec ? { dtype: info.dtype, clampMin: l.clamp.lo, clampMax: l.clamp.hi } : { dtype: 'int32' };
      gm.dense.set(l.id, prepareDense(ctx, l.op, l.weight, l.weightShape, l.bias, spec, out));
      if (fusedAdd) {
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
        gm.words.set(l.id, [uploadBits(ctx, w, [w.length])]);
      }
    } else if (l.op === 'mul' || l.op === 'affine') {
      const w = Int32Array.of(0, l.requant.multiplier[0], l.requant.shift[0], l.op === 'affine' ? l.offset : 0);
      gm.words.set(l.id, [uploadBits(ctx, w, [4])]);
    } else if (l.op === 'lut') {
      gm.words.set(l.id, [uploadLut(ctx, l)]);
    } else if (l.op === 'gather_channels') {
      gm.words.set(l.id, [uploadBits(ctx, Int32Array.from(l.index), [l.index.length])]);
    } else if (l.op === 'rescale') {
      gm.words.set(l.id, l.requant.map((r) => {
        const w = Int32Array.of(0, r.multiplier[0], r.shift[0], 0);
        return uploadBits(ctx, w, [4]);
      }));
    }
  }
  byCtx.set(ctx, gm);
  return gm;
}

/** Frees the GPU copies of a model's weights on `ctx` (they are re-uploaded by the next run). */
export function releaseGpuModel(model: IntModel, ctx: GpuContext): void {
  const gm = cache.get(model)?.get(ctx);
  if (!gm) return;
  for (const d of gm.dense.values()) releaseDense(ctx, d);
  for (const ws of gm.words.values()) for (const w of ws) ctx.release(w);
  cache.get(model)!.delete(ctx);
}

function execGpu(ctx: GpuContext, model: IntModel, gm: GpuModel, layer: IntLayer, ins: GpuIntTensor[], N: number): GpuIntTensor {
  const info = model.values[layer.id];
  const x = ins[0];
  const clampOut = (l: { clamp: { lo: number; hi: number } }): OutputSpec => ({ dtype: info.dtype, clampMin: l.clamp.lo, clampMax: l.clamp.hi });
  switch (layer.op) {
    case 'conv2d': {
      const g = layer.geometry!;
      const y = conv2d(ctx, x, 0, gm.dense.get(layer.id)!, { stride: g.stride, padding: g.padding, dilation: g.dilation, groups: g.groups });
      if (!layer.addRescale) return y;
      const a = ins[1];
      if (a.t.size !== y.t.size) throw new SimError(`${layer.id}: add input has ${a.t.size} values, conv output ${y.t.size}`);
      const [, O, OH, OW] = y.shape;
      const out = ctx.empty([y.t.size]);
      ctx.run({
        key: RUN_SHADER.key, code: RUN_SHADER.code, entry: 'add_requant', inputs: [y.t, a.t, gm.words.get(layer.id)![0]], outputs: [out],
        params: ADD_RQ.pack({ total: y.t.size, inner: OH * OW, channels: O, lo: layer.clamp.lo, hi: layer.clamp.hi }), workgroups: grid1d(y.t.size),
      });
      ctx.release(y.t);
      return { t: out, dtype: info.dtype, shape: y.shape };
    }
    case 'linear': {
      const K = layer.weightShape[1];
      if (x.t.size !== N * K) throw new SimError(`${layer.id}: input has ${x.t.size / N} features, weights ${K}`);
      return linear(ctx, { ...x, shape: [N, K] }, 0, gm.dense.get(layer.id)!);
    }
    case 'add':
      return gpuAdd(ctx, x, 0, ins[1], 0, layer.params, clampOut(layer));
    case 'rescale': {
      const per = ins.map((t) => t.t.size / N);
      const total = per.reduce((s, v) => s + v, 0);
      const out = ctx.empty([N * total]);
      let offset = 0;
      ins.forEach((t, i) => {
        if (t.t.size > 0) {
          ctx.run({
            key: RUN_SHADER.key, code: RUN_SHADER.code, entry: 'rescale_into', inputs: [t.t, gm.words.get(layer.id)![i]], outputs: [out],
            params: INTO.pack({ total: t.t.size, per: per[i], stride: total, offset, lo: layer.clamp.lo, hi: layer.clamp.hi }), workgroups: grid1d(t.t.size),
          });
        }
        offset += per[i];
      });
      return { t: out, dtype: info.dtype, shape: ins.length === 1 ? [...x.shape] : [N, ...info.shape] };
    }
    case 'maxpool2d':
      return maxPool2d(ctx, x, { kernel: layer.kernel, stride: layer.stride, padding: layer.padding, ceilMode: layer.ceilMode });
    case 'avgpool2d': {
      const kernel = layer.kernel ?? [x.shape[2], x.shape[3]];
      const geom = { kernel, stride: layer.kernel ? layer.stride : kernel, padding: layer.padding, ceilMode: layer.ceilMode };
      const byCount = layer.requant.multiplier.length > 1 ? { includePad: layer.countIncludePad ?? true } : undefined;
      const y = avgPool2d(ctx, x, 0, geom, horizon(layer.requant), clampOut(layer), byCount);
      return { ...y, shape: [N, ...info.shape] };
    }
    case 'mul': {
      const b = ins[1];
      if (!b.t.size || x.t.size % b.t.size) throw new SimError(`${layer.id}: b has ${b.t.size} values, a ${x.t.size}`);
      const out = ctx.empty([x.t.size]);
      if (x.t.size > 0) {
        ctx.run({
          key: RUN_SHADER.key, code: RUN_SHADER.code, entry: 'mul_requant', inputs: [x.t, b.t, gm.words.get(layer.id)![0]], outputs: [out],
          params: MUL_RQ.pack({ total: x.t.size, inner: x.t.size / b.t.size, lo: layer.clamp.lo, hi: layer.clamp.hi }), workgroups: grid1d(x.t.size),
        });
      }
      return { t: out, dtype: info.dtype, shape: [...x.shape] };
    }
    case 'affine': {
      const out = ctx.empty([x.t.size]);
      if (x.t.size > 0) {
        ctx.run({
          key: RUN_SHADER.key, code: RUN_SHADER.code, entry: 'affine_requant', inputs: [x.t, gm.words.get(layer.id)![0]], outputs: [out],
          params: AFF_RQ.pack({ total: x.t.size, lo: layer.clamp.lo, hi: layer.clamp.hi }), workgroups: grid1d(x.t.size),
        });
      }
      return { t: out, dtype: info.dtype, shape: [...x.shape] };
    }
    case 'lut':
      return lutGpu(ctx, x, gm.words.get(layer.id)![0], layer, info.dtype);
    case 'reshape':
      return { ...x, shape: [N, ...info.shape] };
    case 'gather_channels': {
      const [, C, ...rest] = x.shape;
      const inner = rest.reduce((a, b) => a * b, 1);
      if (layer.index.some((i) => i >= C)) throw new SimError(`${layer.id}: channel index outside the input's ${C} channels`);
      const J = layer.index.length;
      const out = ctx.empty([N * J * inner]);
      if (out.size > 0) {
        ctx.run({
          key: GATHER_SHADER.key, code: GATHER_SHADER.code, entry: 'gather_channels', inputs: [x.t, gm.words.get(layer.id)![0]], outputs: [out],
          params: GATHER.pack({ total: out.size, inner, in_c: C, out_c: J }), workgroups: grid1d(out.size),
        });
      }
      return { t: out, dtype: x.dtype, shape: [N, J, ...rest] };
    }
    case 'quantize':
    case 'dequantize':
      throw new SimError(`execGpu: ${layer.op} is a boundary layer`);
    default:
      return assertNever(layer, 'integer layer');
  }
}

/**
 * Runs the integer model on a float batch x of n samples (NCHW) with every layer on the GPU of `ctx`. The same
 * result as runIntModel(model, x, n, o), integer for integer (dumps included).
 */
export async function runIntModelGpu(model: IntModel, x: Float32Array, n: number, ctx: GpuContext, o: SimRunOptions = {}): Promise<SimRunResult> {
  const per = model.inputShape.reduce((a, b) => a * b, 1);
  if (x.length !== n * per) throw new SimError(`input has ${x.length} values, ${n} x [${model.inputShape}] needs ${n * per}`);
  const gm = prepareModel(model, ctx);
  const want = o.dump === true ? null : new Set(o.dump === undefined || o.dump === false ? [] : o.dump);
  const dumpAll = o.dump === true;
  const last = new Map<string, number>();
  model.layers.forEach((l, i) => l.inputs.forEach((id) => last.set(id, i)));
  const vals = new Map<string, GpuIntTensor>();
  const refs = new Map<GpuTensor, number>(); // reshape shares its input's buffer
  const hold = (t: GpuIntTensor) => refs.set(t.t, (refs.get(t.t) ?? 0) + 1);
  const drop = (t: GpuIntTensor) => {
    const r = (refs.get(t.t) ?? 1) - 1;
    if (r > 0) refs.set(t.t, r);
    else {
      refs.delete(t.t);
      ctx.release(t.t);
    }
  };
  const pendingDumps: Array<[string, GpuIntTensor]> = [];
  /** Dequantize layer id -> the integer value it reads (held until read back). */
  const outT = new Map<string, { src: string; t: GpuIntTensor }>();
  try {
    model.layers.forEach((layer, idx) => {
      let t: GpuIntTensor;
      if (layer.op === 'quantize') {
        if (layer.inputs[0] !== model.input) throw new SimError(`${layer.id}: a quantize layer must read the model input`);
        const info = model.values[layer.id];
        t = uploadInt(ctx, quantizeInput(x, layer, info), [n, ...model.inputShape], info.dtype);
      } else if (layer.op === 'dequantize') {
        const src = vals.get(layer.inputs[0]);
        if (!src) throw new SimError(`${layer.id}: value ${layer.inputs[0]} not computed`);
        outT.set(layer.id, { src: layer.inputs[0], t: src });
        hold(src);
        return;
      } else {
        const ins = layer.inputs.map((id) => {
          const v = vals.get(id);
          if (!v) throw new SimError(`${layer.id}: value ${id} not computed`);
          return v;
        });
        t = execGpu(ctx, model, gm, layer, ins, n);
      }
      vals.set(layer.id, t);
      hold(t);
      if (dumpAll || want?.has(layer.id)) {
        pendingDumps.push([layer.id, t]);
        hold(t);
      }
      for (const id of layer.inputs) {
        if (last.get(id) === idx && vals.has(id)) {
          drop(vals.get(id)!);
          vals.delete(id);
        }
      }
    });
    if (!outT.size) throw new SimError(`model ${model.name}: no dequantize layer reached`);
    const outs = new Map<string, SimOutput>();
    for (const [id, o] of outT) {
      const int: IntTensor = { data: await readInt(ctx, o.t), shape: [...o.t.shape] };
      outs.set(id, { id, output: dequantizeOutput(int, model.values[o.src]), shape: int.shape, int });
    }
    const outputs = orderOutputs(model, outs);
    const dumps = new Map<string, IntTensor>();
    for (const [id, t] of pendingDumps) dumps.set(id, { data: await readInt(ctx, t), shape: [...t.shape] });
    return { output: outputs[0].output, outputShape: outputs[0].shape, outputInt: outputs[0].int, outputs, dumps };
  } finally {
    for (const v of vals.values()) drop(v);
    for (const [, t] of pendingDumps) drop(t);
    for (const o of outT.values()) drop(o.t);
  }
}
