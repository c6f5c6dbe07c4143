/**
 * The fixed-point simulator: runs an IntModel (src/quant/convert.ts) on a batch.
 *
 *  float input --quantize--> int8/int16 ... integer layers ... --dequantize--> float logits
 *
 * Between the quantize layer (QuantStub) and the dequantize layer (DeQuantStub) every value is an Int8Array,
 * Int16Array, Uint8Array or Int32Array: `execLayer` checks each input with assertIntArray, so a Float32Array can
 * never enter the datapath. The arithmetic is that of src/sim/int (docs/fixed-point.md): int32 accumulation,
 * 'horizon' requantization (multiplier, shift, round half up), clamps for fused activations. Deterministic: no
 * randomness, no float in the datapath, and the same result for any batch split.
 *
 * Per-layer integer dumps on request (`dump`).
 */
import { intModelOutputs, type IntLayer, type IntModel, type ValueInfo } from './model.ts';
import { bpuRoundF32 } from '../qmath/rounding.ts';
import { allocInt, assertIntArray, type IntArray } from './int/requant.ts';
import { intLayerDef } from './layers.ts';
import { SimError, type IntTensor } from './tensor.ts';

export { SimError, type IntTensor } from './tensor.ts';

export interface SimRunOptions {
  /** true: dump every integer value; or the ids of the values to dump. */
  dump?: boolean | readonly string[];
}

/** One output of the model: the dequantize layer's id, its float values and the integers before dequantization. */
export interface SimOutput {
  id: string;
  output: Float32Array;
  shape: number[];
  int: IntTensor;
}

export interface SimRunResult {
  /** Dequantized (first) output (float, outside the DeQuantStub). */
  output: Float32Array;
  outputShape: number[];
  /** The integer (first) output before dequantization. */
  outputInt: IntTensor;
  /** Every output, in the model's order (intModelOutputs); outputs[0] is output. */
  outputs: SimOutput[];
  /** Requested per-layer integer values, by layer id. */
  dumps: Map<string, IntTensor>;
}

/** Orders the dequantized outputs as the model lists them; throws if one was not reached. */
export function orderOutputs(model: IntModel, got: Map<string, SimOutput>): SimOutput[] {
  return intModelOutputs(model).map((id) => {
    const o = got.get(id);
    if (!o) throw new SimError(`model ${model.name}: output ${id} (a dequantize layer) not reached`);
    return o;
  });
}

const f32 = Math.fround;

/** QuantStub: q = clamp(round(f32(x · f32(1/scale)))), rounding as the fake quant (half_even or bpu_round). */
export function quantizeInput(x: Float32Array, layer: Extract<IntLayer, { op: 'quantize' }>, info: ValueInfo): IntArray {
  if (!(x instanceof Float32Array)) throw new TypeError('quantize: the model input must be a Float32Array');
  const out = allocInt(info.dtype, x.length);
  const inv = f32(1 / f32(layer.scale));
  const lo = info.dtype === 'int16' ? -32768 : info.dtype === 'uint8' ? 0 : -128;
  const hi = info.dtype === 'int16' ? 32767 : info.dtype === 'uint8' ? 255 : 127;
  const halfUp = layer.rounding === 'bpu_round';
  for (let i = 0; i < x.length; i++) {
    const t = f32(x[i] * inv);
    let r: number;
    if (halfUp) r = bpuRoundF32(t);
    else {
      r = Math.round(t);
      if (r - t === 0.5 && r % 2 !== 0) r -= 1;
    }
    if (!(r === r)) r = lo; // NaN: as the fake quant (INT64_MIN, clamped to qmin)
    out[i] = r < lo ? lo : r > hi ? hi : r;
  }
  return out;
}

/** DeQuantStub: f32(q · scale), per tensor or per channel (axis 1) for int32 outputs. */
export function dequantizeOutput(t: IntTensor, info: ValueInfo): Float32Array {
  assertIntArray('dequantize', t.data);
  const out = new Float32Array(t.data.length);
  const C = info.scales.length;
  const inner = C === 1 ? t.data.length : t.shape.slice(2).reduce((a, b) => a * b, 1);
  const q = t.data;
  for (let i = 0; i < q.length; i++) out[i] = q[i] * f32(info.scales[C === 1 ? 0 : Math.floor(i / inner) % C]);
  return out;
}

/**
 * One integer layer on integer inputs (full shapes, batch first): its kind's CPU run (INT_LAYERS, src/sim/layers.ts).
 * Used by runIntModel and by tests that feed a layer with the fake-quant model's own inputs.
 */
export function execLayer(model: IntModel, layer: IntLayer, inputs: IntTensor[], batch?: number): IntTensor {
  if (layer.op === 'quantize' || layer.op === 'dequantize') throw new SimError(`execLayer: ${layer.op} is a boundary layer`);
  inputs.forEach((t, i) => assertIntArray(`${layer.id} input ${i}`, t.data));
  // a layer without inputs (a learned constant) takes the batch size from the run
  const N = inputs.length ? inputs[0].shape[0] : batch;
  if (N === undefined) throw new SimError(`execLayer: ${layer.id} has no inputs; the batch size must be given`);
  return intLayerDef(layer).cpu(layer, inputs, { model, info: model.values[layer.id], N });
}

/** Index of the last layer that reads each value (to free intermediate tensors early). */
function lastUses(model: IntModel): Map<string, number> {
  const last = new Map<string, number>();
  model.layers.forEach((l, i) => l.inputs.forEach((id) => last.set(id, i)));
  return last;
}

/** Runs the integer model on a float batch x of n samples (NCHW, the same float input the float model takes). */
export function runIntModel(model: IntModel, x: Float32Array, n: number, o: SimRunOptions = {}): SimRunResult {
  const per = model.inputShape.reduce((a, b) => a * b, 1);
  if (x.length !== n * per) throw new SimError(`input has ${x.length} values, ${n} x [${model.inputShape}] needs ${n * per}`);
  const want = o.dump === true ? null : new Set(o.dump === undefined || o.dump === false ? [] : o.dump);
  const dumpAll = o.dump === true;
  const dumps = new Map<string, IntTensor>();
  const vals = new Map<string, IntTensor>();
  const last = lastUses(model);
  const outs = new Map<string, SimOutput>();
  model.layers.forEach((layer, idx) => {
    let t: IntTensor;
    if (layer.op === 'quantize') {
      if (layer.inputs[0] !== model.input) throw new SimError(`${layer.id}: a quantize layer must read the model input`);
      t = { data: quantizeInput(x, layer, model.values[layer.id]), shape: [n, ...model.inputShape] };
    } else if (layer.op === 'dequantize') {
      const src = vals.get(layer.inputs[0]);
      if (!src) throw new SimError(`${layer.id}: value ${layer.inputs[0]} not computed`);
      outs.set(layer.id, { id: layer.id, output: dequantizeOutput(src, model.values[layer.inputs[0]]), shape: src.shape, int: src });
      return;
    } else {
      const ins = layer.inputs.map((id) => {
        const v = vals.get(id);
        if (!v) throw new SimError(`${layer.id}: value ${id} not computed`);
        return v;
      });
      t = execLayer(model, layer, ins, n);
    }
    vals.set(layer.id, t);
    if (dumpAll || want?.has(layer.id)) dumps.set(layer.id, t);
    for (const id of layer.inputs) if (last.get(id) === idx && !dumps.has(id)) vals.delete(id);
  });
  if (!outs.size) throw new SimError(`model ${model.name}: no dequantize layer reached`);
  const outputs = orderOutputs(model, outs);
  return { output: outputs[0].output, outputShape: outputs[0].shape, outputInt: outputs[0].int, outputs, dumps };
}
