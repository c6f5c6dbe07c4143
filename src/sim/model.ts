/**
 * The integer model the fixed-point simulator runs (src/sim/run.ts, run-gpu.ts) and the model file stores
 * (src/sim/model-file.ts); produced by convert() (src/quant/convert.ts). It lives with the simulator: the simulator
 * depends on nothing upstream of it (quant, engine, graph).
 */
import type { March } from '../qmath/march.ts';
import type { RoundingMode } from '../qmath/rounding.ts';
import type { AddParams } from './int/add.ts';
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

interface LayerBase {
  id: string;
  inputs: string[];
}

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
  | (LayerBase & { op: 'maxpool2d'; kernel: [number, number]; stride: [number, number]; padding: [number, number] })
  | (LayerBase & {
    op: 'avgpool2d';
    kernel: [number, number] | null; // null = global
    stride: [number, number];
    padding: [number, number];
    requant: RequantParams;
    clamp: OutClamp;
  })
  | (LayerBase & { op: 'reshape' })
  /** y[:, j] = x[:, index[j]]: channel slice and shuffle, integers moved unchanged (the input's scale). */
  | (LayerBase & { op: 'gather_channels'; index: number[] })
  | (LayerBase & { op: 'dequantize' });

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
  output: string;
}

