/**
 * The integer model the fixed-point simulator runs (src/sim/run.ts, run-gpu.ts) and the model file stores
 * (src/sim/model-file.ts); produced by convert() (src/quant/convert.ts). It lives with the simulator: the simulator
 * depends on nothing upstream of it (quant, engine, graph).
 */
import type { March } from '../qmath/march.ts';
import type { RoundingMode } from '../qmath/rounding.ts';
import type { AddParams } from './int/add.ts';
import type { LayerNormParams } from './int/layernorm.ts';
import type { QDType } from './int/requant.ts';

export const INT_MODEL_FORMAT = 'quant-studio-int-model';
export const INT_MODEL_VERSION = 1;

/** Per-channel multiplier / shift pairs of 'horizon' requantization (length 1 = per tensor). */
export interface RequantParams {
  multiplier: Int32Array;
  shift: Int32Array;
}

/** The integer domain of a value: dtype, scale per tensor (int8/int16) or per channel (int32 outputs). */
export interface ValueInfo {
  dtype: QDType;
  /** One scale per tensor, or one per channel (axis 1) for int32 high-precision outputs. */
  scales: number[];
  /** Per-sample shape (batch excluded). */
  shape: number[];
}

export interface ConvGeometry {
  stride: [number, number];
  padding: [number, number];
  dilation: [number, number];
  groups: number;
}

export interface OutClamp {
  lo: number;
  hi: number;
}

/**
 * A lookup table of a unary activation (sigmoid, tanh, ..., PReLU), built at convert time from the input and output
 * scales (src/sim/int/lut.ts, docs/fixed-point.md §3 "lookup tables"). u = q + inOffset is split into segments of 2^segBits inputs;
 * segment j of channel c starts at knots[segs[2(c·S + j)]] with a step of 2^e inputs, e = segs[2(c·S + j) + 1]:
 *   k = (u mod 2^segBits) >> e,  r = (u mod 2^segBits) mod 2^e,
 *   y = knots[start + k] + round_half_up((knots[start + k + 1] − knots[start + k]) · r / 2^e)      (r = 0: no read)
 *   out = clamp(round_half_up(y / 2^fracBits), lo, hi)
 * int8 / uint8 inputs: one segment of 256 entries, e = 0, fracBits 0 (the knots are the outputs: a 256-entry table);
 * int16 inputs: 64 segments of 1024 inputs, each with its own e, knots with 8 fractional bits (linear interpolation).
 */
export interface LutTable {
  /** The activation the table holds (errors, viewer). */
  fn: string;
  /** 1: one table; C: one table per channel (axis 1), e.g. PReLU's per-channel slope. */
  channels: number;
  /** 128 (int8), 0 (uint8), 32768 (int16). */
  inOffset: number;
  segBits: number;
  /** [start, e] per channel and segment. */
  segs: Int32Array;
  knots: Int32Array;
  fracBits: number;
}

interface LayerBase {
  id: string;
  inputs: string[];
}

/**
 * The float computation of a float island (src/sim/float-island.ts): an op the simulator has no integer layer for on
 * this march, run in float32 between a dequantize of its inputs and a quantize of its output (Horizon's
 * heterogeneous model: the op runs on the CPU, not the BPU). Weights stay int8 with their scales.
 */
export type FloatFn =
  | { kind: 'transpose'; perm: number[] }
  | { kind: 'matmul'; transB: boolean }
  | { kind: 'softmax' }
  | { kind: 'layernorm'; eps: number; gamma: number[]; beta: number[] }
  | { kind: 'gelu'; form: 'erf' | 'tanh' }
  | { kind: 'linear'; weight: Int8Array; weightShape: number[]; weightScales: number[]; bias: number[] | null };

export type IntLayer =
  | (LayerBase & { op: 'quantize'; scale: number; dtype: QDType; rounding: RoundingMode })
  | (LayerBase & {
    op: 'conv2d' | 'linear';
    /** OIHW (conv) or [O, K] (linear) int8 weights. */
    weight: Int8Array;
    weightShape: number[];
    bias: Int32Array;
    geometry?: ConvGeometry;
    /** null for an int32 output (the accumulator is the output). */
    requant: RequantParams | null;
    /** Fused Conv+Add: rescales the add input (inputs[1]) into the accumulator domain, per output channel. */
    addRescale?: RequantParams;
    clamp: OutClamp;
  })
  | (LayerBase & { op: 'add'; params: AddParams; clamp: OutClamp })
  | (LayerBase & { op: 'rescale'; kind: 'relu' | 'relu6' | 'concat'; requant: RequantParams[]; clamp: OutClamp })
  | (LayerBase & { op: 'maxpool2d'; kernel: [number, number]; stride: [number, number]; padding: [number, number]; ceilMode?: boolean })
  | (LayerBase & {
    op: 'avgpool2d';
    kernel: [number, number] | null; // null = global
    stride: [number, number];
    padding: [number, number];
    /** The output size rounds up (src/qmath/pool-window.ts); absent = false. */
    ceilMode?: boolean;
    /** Padded positions count in the divisor; absent = true. */
    countIncludePad?: boolean;
    /**
     * One multiplier of x_scale / (out_scale * count): per tensor (length 1, count = kh * kw); or, when the divisor
     * varies (ceilMode, countIncludePad false), one per count 1..kh*kw, indexed by the window's count − 1.
     */
    requant: RequantParams;
    clamp: OutClamp;
  })
  /** a · b (int32 product) requantized per tensor; inputs[1] matches inputs[0] or holds one value per channel. */
  | (LayerBase & { op: 'mul'; requant: RequantParams; clamp: OutClamp })
  /** round(x · m / 2^s) + offset: x · a + b with scalar constants (Mul / Div by a constant, Sub of one). */
  | (LayerBase & { op: 'affine'; requant: RequantParams; offset: number; clamp: OutClamp })
  | (LayerBase & LutTable & { op: 'lut'; clamp: OutClamp })
  | (LayerBase & { op: 'reshape' })
  /** A learned constant (class token, position table): its integers at its value's scale, repeated over the batch. */
  | (LayerBase & { op: 'const'; data: Int8Array | Int16Array })
  /** y[:, j] = x[:, index[j]]: channel slice and shuffle, integers moved unchanged (the input's scale). */
  | (LayerBase & { op: 'gather_channels'; index: number[] })
  | (LayerBase & { op: 'dequantize' })
  /** Axes of the per-sample value permuted (perm, batch excluded): integers moved unchanged (the input's scale). */
  | (LayerBase & { op: 'transpose'; perm: number[] })
  /**
   * The product of two integer values batched over the leading axes (attention): int32 accumulation of a · b (or a · bᵀ
   * with transB), requantized per tensor with a multiplier and shift for s_a · s_b / s_out (docs/fixed-point.md §10).
   */
  | (LayerBase & { op: 'matmul'; transB: boolean; requant: RequantParams; clamp: OutClamp })
  /**
   * Softmax over the last axis in integers (docs/fixed-point.md "transformer pieces"): d = q − max(row) ≤ 0,
   * e = expTable[−d] (round(exp(d · s_in) · 2^expBits), 0 past the table), S = Σ e, out = round_half_up(e · recip / (S · 2^recipShift))
   * with recip = round(2^recipShift / s_out).
   */
  | (LayerBase & { op: 'softmax'; expTable: Int32Array; expBits: number; recip: number; recipShift: number; clamp: OutClamp })
  /**
   * Layer norm over the last axis in integers (src/sim/int/layernorm.ts, docs/fixed-point.md "layer norm"): exact row
   * sums, a reciprocal square root from a normalised-mantissa table with interpolation, x̂ in Q24, then
   * round_half_up((x̂ · gamma[j] + beta[j]) / 2^outShift) per feature.
   */
  | (LayerBase & LayerNormParams & { op: 'layernorm'; clamp: OutClamp })
  /**
   * A float island: inputs dequantized (q · s_in, float32), `fn` in float32, the output quantized to its value's
   * scale and dtype (the fake quant's rule: f32(y · f32(1/s)), the rounding, the clamp). `reason`: why it is float.
   */
  | (LayerBase & { op: 'float'; fn: FloatFn; reason: string; rounding: RoundingMode; clamp: OutClamp })
  /**
   * Resize (src/sim/int/resize.ts, docs/fixed-point.md "resize"): two taps per output position and axis, weights in
   * Q`fracBits` (each pair sums to 2^fracBits); rows first, t = round_half_up((wr0·x0 + wr1·x1) / 2^midShift), then
   * acc = wc0·t0 + wc1·t1 (int32). Nearest: fracBits 0, weights (1, 0), requant null (the input's integers copied,
   * its scale kept); linear: acc requantized by x_s / (y_s · 2^(2·fracBits − midShift)).
   */
  | (LayerBase & { op: 'resize'; rows: ResizeTable; cols: ResizeTable; fracBits: number; midShift: number; requant: RequantParams | null; clamp: OutClamp })
  /**
   * ConvTranspose (src/sim/int/conv-transpose.ts): int8 weights [C_out, C_in / groups, KH, KW] (the graph
   * parameter's conv-like layout), int32 bias and accumulation, per-output-channel 'horizon' requantization with the
   * fused activation's clamp (as conv2d).
   */
  | (LayerBase & {
    op: 'conv_transpose2d';
    weight: Int8Array;
    weightShape: number[];
    bias: Int32Array;
    geometry: ConvGeometry & { outputPadding: [number, number] };
    requant: RequantParams | null;
    clamp: OutClamp;
  })
  | (LayerBase & { op: 'dequantize' });

/** One axis of a `resize` layer: input index and fixed-point weight of the two taps of each output position. */
export interface ResizeTable {
  index: Int32Array;
  weight: Int32Array;
}

export type IntLayerOp = IntLayer['op'];

export interface IntModel {
  format: typeof INT_MODEL_FORMAT;
  version: number;
  name: string;
  march: March;
  /** Requantization mode of the datapath (only 'horizon' is produced by convert). */
  mode: 'horizon';
  /** Width of the conv/linear requant multipliers. */
  multiplierBits: number;
  /** Per-sample input shape [C, H, W]. */
  inputShape: number[];
  numClasses: number;
  /** The graph's input value (float, fed to the quantize layer). */
  input: string;
  layers: IntLayer[];
  /** Integer domain of every value produced by a layer (not the float input or the dequantized output). */
  values: Record<string, ValueInfo>;
  /** The (first) output: a dequantize layer's id. */
  output: string;
  /**
   * Every output in order (output first), each a dequantize layer's id, of any shape; absent: the one output (files
   * written before several outputs existed read the same).
   */
  outputs?: string[];
}

/** The model's outputs in order (dequantize layer ids): `outputs`, or the one `output`. */
export function intModelOutputs(m: Pick<IntModel, 'output' | 'outputs'>): string[] {
  return m.outputs && m.outputs.length ? m.outputs : [m.output];
}

