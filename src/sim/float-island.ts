/**
 * Float islands of a heterogeneous model (Horizon's guide, "heterogeneous models"): an op the BPU of the chosen march
 * has no integer implementation for runs in float on the CPU, between a dequantize of its inputs and a quantize of
 * its output. Here: every input dequantized exactly as the fake-quant model sees it (f32(q · s)), the op computed in
 * float32 by the same reference functions the CPU engine runs (src/engine/reference: pure functions, no engine
 * state), the output quantized with the fake quant's rule to its value's scale (f32(y · f32(1/s)), the rounding, the
 * dtype's clamp). So an island reproduces the fake-quant model's integers up to float32 summation order.
 */
import { linearForward } from '../engine/reference/linear.ts';
import { layerNorm, matmul, matmulDims, softmax, transpose } from '../engine/reference/tokens.ts';
import { unaryActValue } from '../engine/unary-act.ts';
import { quantizeValue } from '../qmath/fake-quantize.ts';
import type { FloatFn, IntLayer, ValueInfo } from './model.ts';
import { allocInt } from './int/requant.ts';
import type { IntTensor } from './run.ts';

type FloatLayer = Extract<IntLayer, { op: 'float' }>;

const f32 = Math.fround;

/** The float result and its full shape (batch first). */
function compute(fn: FloatFn, xs: Float32Array[], shapes: number[][]): { y: Float32Array; shape: number[] } {
  const [x] = xs, [shape] = shapes;
  switch (fn.kind) {
    case 'transpose': {
      const perm = [0, ...fn.perm.map((p) => p + 1)];
      return { y: transpose(x, shape, perm) as Float32Array, shape: perm.map((p) => shape[p]) };
    }
    case 'matmul': {
      const d = matmulDims(shape, shapes[1], false, fn.transB);
      return { y: matmul(x, xs[1], d, false, fn.transB) as Float32Array, shape: [...shape.slice(0, -2), d.M, d.N] };
    }
    case 'softmax':
      return { y: softmax(x, shape[shape.length - 1]) as Float32Array, shape };
    case 'layernorm': {
      const d = shape[shape.length - 1];
      return { y: layerNorm(x, Float32Array.from(fn.gamma), Float32Array.from(fn.beta), d, fn.eps)[0] as Float32Array, shape };
    }
    case 'gelu': {
      const a = { kind: fn.form === 'tanh' ? 'gelu_tanh' as const : 'gelu' as const, alpha: 0, beta: 0 };
      return { y: Float32Array.from(x, (v) => f32(unaryActValue(a, v))), shape };
    }
    case 'linear': {
      const [O, K] = fn.weightShape;
      const w = new Float32Array(O * K);
      for (let o = 0; o < O; o++) {
        const s = f32(fn.weightScales[fn.weightScales.length === 1 ? 0 : o]);
        for (let k = 0; k < K; k++) w[o * K + k] = f32(fn.weight[o * K + k] * s);
      }
      const rows = x.length / K;
      const y = linearForward(x, w, fn.bias ? Float32Array.from(fn.bias) : null, rows, K, O) as Float32Array;
      return { y, shape: [...shape.slice(0, -1), O] };
    }
  }
}

export function runFloatIsland(layer: FloatLayer, inputs: IntTensor[], inInfo: ValueInfo[], info: ValueInfo): IntTensor {
  const xs = inputs.map((t, i) => {
    const s = f32(inInfo[i].scales[0]);
    return Float32Array.from(t.data, (q) => f32(q * s));
  });
  const { y, shape } = compute(layer.fn, xs, inputs.map((t) => [...t.shape]));
  const out = allocInt(info.dtype, y.length);
  const inv = f32(1 / f32(info.scales[0]));
  const { lo, hi } = layer.clamp;
  for (let i = 0; i < y.length; i++) out[i] = Math.min(hi, Math.max(lo, quantizeValue(y[i], inv, 0, layer.rounding)));
  return { data: out, shape };
}
