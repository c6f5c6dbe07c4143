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
import { intModelOutputs, type IntLayer, type IntModel, type RequantParams, type ValueInfo } from './model.ts';
import { assertNever } from './assert-never.ts';
import { bpuRoundF32 } from '../qmath/rounding.ts';
import { addInt } from './int/add.ts';
import { mulAcc } from './int/mul.ts';
import { maxPool2dInt, avgPool2dSums, avgPoolCounts, requantizeByCount } from './int/pool.ts';
import { lutApply } from './int/lut.ts';
import { allocInt, assertIntArray, mulShiftRound, requantizeHorizon, type IntArray } from './int/requant.ts';
import { conv2dAccFast, conv2dRequantFast, linearAccFast } from './fast-conv.ts';
import { wasmGemm } from './wasm-gemm.ts';

/** An integer tensor with its full shape (batch first). */
export interface IntTensor {
  data: IntArray;
  shape: number[];
}

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

export class SimError extends Error {}

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

function requantTo(acc: Int32Array, rq: RequantParams, dtype: ValueInfo['dtype'], lo: number, hi: number, channels: number, inner: number, zp = 0): IntArray {
  const simd = dtype === 'int8' || dtype === 'int16' ? wasmGemm() : null;
  if (simd) return simd.requant(acc, rq.multiplier, rq.shift, dtype as 'int8' | 'int16', zp, lo, hi, channels, inner);
  return requantizeHorizon(acc, rq.multiplier, rq.shift, { dtype, zeroPoint: zp, clampMin: lo, clampMax: hi }, { channels, inner });
}

/**
 * One integer layer on integer inputs (full shapes, batch first). Used by runIntModel and by tests that feed a
 * layer with the fake-quant model's own inputs.
 */
export function execLayer(model: IntModel, layer: IntLayer, inputs: IntTensor[]): IntTensor {
  if (layer.op === 'quantize' || layer.op === 'dequantize') throw new SimError(`execLayer: ${layer.op} is a boundary layer`);
  inputs.forEach((t, i) => assertIntArray(`${layer.id} input ${i}`, t.data));
  const info = model.values[layer.id];
  const x = inputs[0];
  const N = x.shape[0];
  switch (layer.op) {
    case 'conv2d': {
      if (layer.requant && (info.dtype === 'int8' || info.dtype === 'int16')) {
        // pointwise / depthwise convs: accumulation, add input and requantization fused in the SIMD kernels
        const rq = { ...layer.requant, dtype: info.dtype, lo: layer.clamp.lo, hi: layer.clamp.hi };
        const add = layer.addRescale ? { a: inputs[1].data, ...layer.addRescale } : undefined;
        const fused = conv2dRequantFast(x.data, x.shape, layer.weight, layer.weightShape, layer.bias, layer.geometry!, rq, add);
        if (fused) return fused;
      }
      const { acc, shape } = conv2dAccFast(x.data, x.shape, 0, layer.weight, layer.weightShape, layer.bias, layer.geometry!);
      const [, O, OH, OW] = shape;
      const P = OH * OW;
      if (layer.addRescale) {
        const a = inputs[1];
        if (a.data.length !== acc.length) throw new SimError(`${layer.id}: add input has ${a.data.length} values, conv output ${acc.length}`);
        const { multiplier: m, shift: s } = layer.addRescale;
        const ad = a.data;
        const narrow = !(ad instanceof Int32Array); // |a| <= 2^15, m < 2^31: a·m < 2^46 is an exact double
        for (let n = 0; n < N; n++) {
          for (let o = 0; o < O; o++) {
            const mo = m[o], so = s[o];
            const base = (n * O + o) * P;
            if (narrow) {
              // round half up of a·m / 2^s, inlined (= mulShiftRound on its exact fast path)
              const d = 2 ** so, inv = 1 / d, half = so === 0 ? 1 : d / 2;
              for (let p = base; p < base + P; p++) {
                const v = ad[p] * mo;
                const q = Math.floor(v * inv);
                acc[p] = (acc[p] + (v - q * d >= half ? q + 1 : q)) | 0;
              }
            } else {
              for (let p = base; p < base + P; p++) acc[p] = (acc[p] + mulShiftRound(ad[p], mo, so)) | 0;
            }
          }
        }
      }
      if (!layer.requant) return { data: acc, shape };
      return { data: requantTo(acc, layer.requant, info.dtype, layer.clamp.lo, layer.clamp.hi, O, P), shape };
    }
    case 'linear': {
      const [O, K] = layer.weightShape;
      if (x.data.length !== N * K) throw new SimError(`${layer.id}: input has ${x.data.length / N} features, weights ${K}`);
      const acc = linearAccFast(x.data, N, K, 0, layer.weight, O, layer.bias);
      if (!layer.requant) return { data: acc, shape: [N, O] };
      return { data: requantTo(acc, layer.requant, info.dtype, layer.clamp.lo, layer.clamp.hi, O, 1), shape: [N, O] };
    }
    case 'add': {
      const fast = addFast(x.data, inputs[1].data, layer.params.aMultiplier, layer.params.bMultiplier, layer.params.shift, info.dtype, layer.clamp.lo, layer.clamp.hi);
      if (fast) return { data: fast, shape: [...x.shape] };
      const data = addInt(x.data, 0, inputs[1].data, 0, layer.params, { dtype: info.dtype, clampMin: layer.clamp.lo, clampMax: layer.clamp.hi });
      return { data, shape: [...x.shape] };
    }
    case 'rescale': {
      // relu / relu6 / concat with their own scale: multiplier + shift from each input's scale, then the clamp.
      const parts = inputs.map((t, i) => {
        const acc = t.data instanceof Int32Array ? t.data : Int32Array.from(t.data);
        return requantTo(acc, layer.requant[i], info.dtype, layer.clamp.lo, layer.clamp.hi, 1, 1);
      });
      if (parts.length === 1) return { data: parts[0], shape: [...x.shape] };
      // concat along channels (axis 1)
      const per = inputs.map((t) => t.data.length / N);
      const total = per.reduce((a, b) => a + b, 0);
      const out = allocInt(info.dtype, N * total);
      for (let n = 0; n < N; n++) {
        let off = n * total;
        parts.forEach((p, i) => {
          out.set(p.subarray(n * per[i], (n + 1) * per[i]), off);
          off += per[i];
        });
      }
      return { data: out, shape: [N, ...info.shape] };
    }
    case 'maxpool2d': {
      const r = maxPool2dInt(x.data, x.shape as [number, number, number, number], { kernel: layer.kernel, stride: layer.stride, padding: layer.padding, ceilMode: layer.ceilMode });
      return { data: r.data, shape: r.shape };
    }
    case 'avgpool2d': {
      const shape4 = x.shape as [number, number, number, number];
      const kernel = layer.kernel ?? [shape4[2], shape4[3]];
      const geom = { kernel, stride: layer.kernel ? layer.stride : kernel, padding: layer.padding, ceilMode: layer.ceilMode };
      const r = avgPool2dSums(x.data, shape4, 0, geom);
      const { multiplier, shift } = layer.requant;
      // a divisor per window (ceil_mode, count_include_pad = false): the multiplier of the window's count
      const data = multiplier.length === 1 ? requantTo(r.sum, layer.requant, info.dtype, layer.clamp.lo, layer.clamp.hi, 1, 1)
        : requantizeByCount(r.sum, avgPoolCounts(shape4, geom, layer.countIncludePad ?? true), multiplier, shift, { dtype: info.dtype, clampMin: layer.clamp.lo, clampMax: layer.clamp.hi });
      // global pooling yields [N, C] (the graph's shape), windows [N, C, OH, OW]
      return { data, shape: [N, ...info.shape] };
    }
    case 'mul':
      // int32 products, then the SIMD requantization (src/sim/int/mul.ts mulInt is the reference)
      return { data: requantTo(mulAcc(x.data, inputs[1].data), layer.requant, info.dtype, layer.clamp.lo, layer.clamp.hi, 1, 1), shape: [...x.shape] };
    case 'affine': {
      // the offset is the output zero point of the requantization (src/sim/int/mul.ts affineInt is the reference)
      const acc = x.data instanceof Int32Array ? x.data : Int32Array.from(x.data);
      return { data: requantTo(acc, layer.requant, info.dtype, layer.clamp.lo, layer.clamp.hi, 1, 1, layer.offset), shape: [...x.shape] };
    }
    case 'lut':
      return { data: lutApply(x.data, x.shape, layer, info.dtype, layer.clamp.lo, layer.clamp.hi), shape: [...x.shape] };
    case 'reshape':
      return { data: x.data, shape: [N, ...info.shape] };
    case 'gather_channels':
      return gatherChannelsInt(x, layer.index, layer.id);
    default:
      return assertNever(layer, 'integer layer');
  }
}

/** y[:, j] = x[:, index[j]] of an [N, C, ...] integer tensor (channel slice / shuffle): integers copied. */
function gatherChannelsInt(x: IntTensor, index: readonly number[], id: string): IntTensor {
  const [N, C] = x.shape;
  const inner = x.shape.slice(2).reduce((a, b) => a * b, 1);
  if (index.some((i) => i >= C)) throw new SimError(`${id}: channel index outside the input's ${C} channels`);
  const J = index.length;
  const out = new (x.data.constructor as new (n: number) => IntArray)(N * J * inner);
  for (let n = 0; n < N; n++) {
    for (let j = 0; j < J; j++) {
      const src = (n * C + index[j]) * inner;
      out.set(x.data.subarray(src, src + inner), (n * J + j) * inner);
    }
  }
  return { data: out, shape: [N, J, ...x.shape.slice(2)] };
}

/**
 * The 'horizon' add (add.ts) in int32 arithmetic, when it provably fits: with |a|, |b| ≤ 2^15 (int8/int16, zero
 * point 0) and |ma|·max|a| + |mb|·max|b| + 2^(shift−1) < 2^31, acc = ma·a + mb·b and acc + 2^(shift−1) are exact
 * int32, and (acc + 2^(shift−1)) >> shift is floor((acc + 2^(shift−1)) / 2^shift) = roundShiftHalfUp(acc, shift):
 * the same integers as addInt. Returns null when the bound does not hold (the caller uses addInt).
 */
function addFast(a: IntArray, b: IntArray, ma: number, mb: number, shift: number, dtype: ValueInfo['dtype'], lo: number, hi: number): IntArray | null {
  const maxAbs = (t: IntArray) => (t instanceof Int8Array ? 128 : t instanceof Uint8Array ? 255 : t instanceof Int16Array ? 32768 : Infinity);
  if (a.length !== b.length || shift > 30 || (dtype !== 'int8' && dtype !== 'int16')) return null;
  const half = shift === 0 ? 0 : 2 ** (shift - 1);
  if (Math.abs(ma) * maxAbs(a) + Math.abs(mb) * maxAbs(b) + half >= 2 ** 31) return null;
  const out = dtype === 'int8' ? new Int8Array(a.length) : new Int16Array(a.length);
  for (let i = 0; i < a.length; i++) {
    const v = (ma * a[i] + mb * b[i] + half) >> shift;
    out[i] = v < lo ? lo : v > hi ? hi : v;
  }
  return out;
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
      t = execLayer(model, layer, ins);
    }
    vals.set(layer.id, t);
    if (dumpAll || want?.has(layer.id)) dumps.set(layer.id, t);
    for (const id of layer.inputs) if (last.get(id) === idx && !dumps.has(id)) vals.delete(id);
  });
  if (!outs.size) throw new SimError(`model ${model.name}: no dequantize layer reached`);
  const outputs = orderOutputs(model, outs);
  return { output: outputs[0].output, outputShape: outputs[0].shape, outputInt: outputs[0].int, outputs, dumps };
}
