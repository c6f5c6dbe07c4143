/**
 * The fixed-point simulator on the GPU: runs an IntModel (src/quant/convert.ts) layer by layer on the WGSL integer
 * kernels, with every activation resident on the GPU between layers: one upload (the quantized input) and one
 * read-back (the integer output) per batch, plus a read-back per requested dump and per float island.
 * Bit-identical to runIntModel (src/sim/run.ts; tests/sim-run-gpu.test.ts compares them on converted models).
 *
 *  - quantize (QuantStub): on the CPU (quantizeInput, the float boundary), then uploaded as i32 words;
 *  - every other kind: its entry in GPU_LAYERS (src/sim/gpu/layers.ts); a model with a kind that has no entry is
 *    refused before anything runs (SimError naming the layers), never half run; float islands read their inputs
 *    back and run on the CPU (src/sim/gpu/float-island.ts);
 *  - a kernel that must refuse (a matmul accumulator leaving int32, an error on the CPU) marks a status word,
 *    read back before each island and at the end: the run then throws, naming the first such layer;
 *  - dequantize (DeQuantStub): read back, then dequantizeOutput on the CPU.
 *
 * Layer constants (weights, biases, requantization words, tables) are uploaded once per (model, context) and
 * cached; `releaseGpuModel` frees them.
 */
import type { GpuContext, GpuTensor } from '../engine/webgpu/gpu-context.ts';
import type { IntModel } from './model.ts';
import { readBits, readInt, uploadBits, uploadInt, type GpuIntTensor } from './gpu/bits.ts';
import { releaseDense } from './gpu/kernels.ts';
import { hasGpuRun, runGpuLayer, uploadGpuLayer, type GpuLayerConsts } from './gpu/layers.ts';
import { dequantizeOutput, orderOutputs, quantizeInput, SimError, type IntTensor, type SimOutput, type SimRunOptions, type SimRunResult } from './run.ts';

/** A model's layer constants uploaded to one context, by layer id. */
type GpuModel = Map<string, GpuLayerConsts>;

const cache = new WeakMap<IntModel, Map<GpuContext, GpuModel>>();

/** The layers whose kind has no WGSL run (boundary layers excepted: runIntModelGpu does those itself). */
export function layersWithoutGpu(model: IntModel): string[] {
  return model.layers.filter((l) => l.op !== 'quantize' && l.op !== 'dequantize' && !hasGpuRun(l)).map((l) => `${l.id} (${l.op})`);
}

function prepareModel(model: IntModel, ctx: GpuContext): GpuModel {
  let byCtx = cache.get(model);
  if (!byCtx) cache.set(model, (byCtx = new Map()));
  const hit = byCtx.get(ctx);
  if (hit) return hit;
  const gm: GpuModel = new Map();
  try {
    for (const l of model.layers) {
      const c = uploadGpuLayer(ctx, l, model.values[l.id]);
      if (c) gm.set(l.id, c);
    }
  } catch (e) {
    freeConsts(ctx, gm);
    throw e;
  }
  byCtx.set(ctx, gm);
  return gm;
}

function freeConsts(ctx: GpuContext, gm: GpuModel): void {
  for (const c of gm.values()) {
    if (c.dense) releaseDense(ctx, c.dense);
    for (const w of c.words) ctx.release(w);
  }
}

/** Frees the GPU copies of a model's weights on `ctx` (they are re-uploaded by the next run). */
export function releaseGpuModel(model: IntModel, ctx: GpuContext): void {
  const gm = cache.get(model)?.get(ctx);
  if (!gm) return;
  freeConsts(ctx, gm);
  cache.get(model)!.delete(ctx);
}

const NO_CONSTS: GpuLayerConsts = { words: [] };
const STATUS_OK = 0x7fffffff;

/**
 * Runs the integer model on a float batch x of n samples (NCHW) with every layer on the GPU of `ctx`. The same
 * result as runIntModel(model, x, n, o), integer for integer (dumps included).
 */
export async function runIntModelGpu(model: IntModel, x: Float32Array, n: number, ctx: GpuContext, o: SimRunOptions = {}): Promise<SimRunResult> {
  const per = model.inputShape.reduce((a, b) => a * b, 1);
  if (x.length !== n * per) throw new SimError(`input has ${x.length} values, ${n} x [${model.inputShape}] needs ${n * per}`);
  const missing = layersWithoutGpu(model);
  if (missing.length) {
    throw new SimError(`model ${model.name}: no GPU kernel for layer${missing.length > 1 ? 's' : ''} ${missing.slice(0, 5).join(', ')}${missing.length > 5 ? ` and ${missing.length - 5} more` : ''}; run it on the CPU simulator`);
  }
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
  // the refusals raised inside kernels (a matmul accumulator leaving int32): the index of the first such layer
  const status = uploadBits(ctx, Int32Array.of(STATUS_OK), [1]);
  const checkStatus = async () => {
    const [idx] = await readBits(ctx, status);
    if (idx !== STATUS_OK) throw new SimError(`${model.layers[idx]?.id ?? `layer ${idx}`}: ${model.layers[idx]?.op ?? '?'} accumulator leaves int32 (the CPU simulator refuses it too)`);
  };
  try {
    for (const [idx, layer] of model.layers.entries()) {
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
        continue;
      } else {
        const ins = layer.inputs.map((id) => {
          const v = vals.get(id);
          if (!v) throw new SimError(`${layer.id}: value ${id} not computed`);
          return v;
        });
        const r = runGpuLayer(layer, ins, { ctx, model, info: model.values[layer.id], N: n, consts: gm.get(layer.id) ?? NO_CONSTS, status, index: idx, checkStatus });
        t = r instanceof Promise ? await r : r;
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
    }
    await checkStatus();
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
    ctx.release(status);
    for (const v of vals.values()) drop(v);
    for (const [, t] of pendingDumps) drop(t);
    for (const o of outT.values()) drop(o.t);
  }
}
