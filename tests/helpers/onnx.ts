/** ONNX test helpers: fixtures, onnxruntime-node runs, our engine's runs, and a tiny model builder. */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import * as ort from 'onnxruntime-node';
import type { Backend } from '../../src/engine/backend.ts';
import { Tape } from '../../src/engine/autograd.ts';
import type { Graph } from '../../src/graph/ir.ts';
import { runGraph } from '../../src/nn/executor.ts';
import { ParamStore, type HostParams } from '../../src/nn/params.ts';
import { AttrType, DataType, encodeModelProto, type AttributeProto, type NodeProto, type TensorProto } from '../../src/io/onnx/proto.ts';
import { mulberry32 } from './random.ts';

export const FIXTURES = fileURLToPath(new URL('../fixtures/onnx/', import.meta.url));
export const FLOAT_FIXTURES = ['residual', 'mobilenetv2', 'mlp', 'handmade', 'fashion_cnn', 'se_block', 'ceil_pools', 'activations', 'activations17', 'se_sigmoid', 'se_hardsigmoid', 'resize_ops_11', 'resize_ops_13', 'fpn_single', 'unet', 'fpn_single_9', 'fpn_single_10', 'unet_9', 'unet_10', 'vit_tiny', 'vit_cls', 'vit_cls17'] as const;

export function fixture(name: string): Uint8Array {
  return new Uint8Array(readFileSync(join(FIXTURES, `${name}.onnx`)));
}

export function randomInput(n: number, seed: number, lo = -1, hi = 1): Float32Array {
  const r = mulberry32(seed);
  return Float32Array.from({ length: n }, () => lo + (hi - lo) * r());
}

/**
 * Runs a model in onnxruntime-node on one input. `optimization` 'disabled' executes the graph as written (a QDQ
 * model's DequantizeLinear / QuantizeLinear in float: the format's reference meaning); the default 'all' lets
 * onnxruntime fuse Q/DQ pairs into its own integer kernels (QLinearConv, ...), which requantize with their own rounding.
 */
export async function runOrt(bytes: Uint8Array, x: Float32Array, shape: number[], optimization: 'disabled' | 'all' = 'all'): Promise<Float32Array> {
  const s = await ort.InferenceSession.create(bytes, { executionProviders: ['cpu'], intraOpNumThreads: 1, interOpNumThreads: 1, graphOptimizationLevel: optimization });
  try {
    const out = await s.run({ [s.inputNames[0]]: new ort.Tensor('float32', x, shape) });
    return Float32Array.from(out[s.outputNames[0]].data as Float32Array);
  } finally {
    await s.release();
  }
}

/** Every output of a model in onnxruntime-node, in the file's order (see runOrt). */
export async function runOrtAll(bytes: Uint8Array, x: Float32Array, shape: number[], optimization: 'disabled' | 'all' = 'all'): Promise<Float32Array[]> {
  const s = await ort.InferenceSession.create(bytes, { executionProviders: ['cpu'], intraOpNumThreads: 1, interOpNumThreads: 1, graphOptimizationLevel: optimization });
  try {
    const out = await s.run({ [s.inputNames[0]]: new ort.Tensor('float32', x, shape) });
    return s.outputNames.map((n) => Float32Array.from(out[n].data as Float32Array));
  } finally {
    await s.release();
  }
}

/** Every output of our engine's eval-mode forward, in graphOutputs order. */
export async function runOursAll(be: Backend, g: Graph, host: HostParams, x: Float32Array, shape: number[]): Promise<Float32Array[]> {
  const store = new ParamStore(be, g, host);
  const tape = new Tape(be, false, false);
  try {
    const { outputs } = runGraph(tape, g, store, tape.input(x, shape));
    return await Promise.all(outputs.map((o) => be.read(o.value)));
  } finally {
    tape.dispose();
    store.dispose();
  }
}

/** Our engine's eval-mode forward of a graph. */
export async function runOurs(be: Backend, g: Graph, host: HostParams, x: Float32Array, shape: number[]): Promise<Float32Array> {
  const store = new ParamStore(be, g, host);
  const tape = new Tape(be, false, false);
  try {
    const { output } = runGraph(tape, g, store, tape.input(x, shape));
    return await be.read(output.value);
  } finally {
    tape.dispose();
    store.dispose();
  }
}

/** max |a - b| / max |b|: the error relative to the reference output's magnitude. */
export function relError(a: Float32Array, b: Float32Array): number {
  if (a.length !== b.length) return Infinity;
  let d = 0, m = 0;
  for (let i = 0; i < a.length; i++) {
    d = Math.max(d, Math.abs(a[i] - b[i]));
    m = Math.max(m, Math.abs(b[i]));
  }
  return d / Math.max(m, 1e-30);
}

// ---- a tiny ONNX model builder for the error cases ----

export const floatInit = (name: string, dims: number[], fill = 0.1): TensorProto => {
  const n = dims.reduce((a, b) => a * b, 1);
  const data = Float32Array.from({ length: n }, (_, i) => fill * ((i % 7) - 3));
  return { name, dims, dataType: DataType.FLOAT, rawData: new Uint8Array(data.buffer) };
};
export const int64Init = (name: string, values: number[]): TensorProto =>
  ({ name, dims: [values.length], dataType: DataType.INT64, rawData: new Uint8Array(BigInt64Array.from(values.map(BigInt)).buffer) });
export const ints = (name: string, v: number[]): AttributeProto => ({ name, type: AttrType.INTS, ints: v });
export const int = (name: string, v: number): AttributeProto => ({ name, type: AttrType.INT, i: v });
export const str = (name: string, v: string): AttributeProto => ({ name, type: AttrType.STRING, s: new TextEncoder().encode(v) });
export const flt = (name: string, v: number): AttributeProto => ({ name, type: AttrType.FLOAT, f: v });

export interface TinyModel {
  nodes: NodeProto[];
  inits?: TensorProto[];
  /** Input dims: numbers or symbolic names; default ['N', 2, 6, 6]. */
  input?: (number | string)[];
  extraInputs?: string[];
  output?: string;
  outputs?: string[];
  opset?: number;
  /** Default 7. */
  irVersion?: number;
  metadata?: Record<string, string>;
}

export function tinyModel(m: TinyModel): Uint8Array {
  const dims = (m.input ?? ['N', 2, 6, 6]).map((d) => (typeof d === 'number' ? { dimValue: d } : { dimParam: d }));
  const vi = (name: string, d = dims) => ({ name, type: { tensorType: { elemType: DataType.FLOAT, shape: { dim: d } } } });
  return encodeModelProto({
    irVersion: m.irVersion ?? 7,
    opsetImport: [{ domain: '', version: m.opset ?? 13 }],
    producerName: 'tests',
    metadataProps: Object.entries(m.metadata ?? {}).map(([key, value]) => ({ key, value })),
    graph: {
      name: 'tiny',
      node: m.nodes,
      initializer: m.inits ?? [],
      input: [vi('input'), ...(m.extraInputs ?? []).map((n) => vi(n))],
      output: (m.outputs ?? [m.output ?? 'y']).map((n) => vi(n, [{ dimParam: 'N' }])),
    },
  });
}

/** A valid tiny model: Conv(2->4, 3x3, pad 1) -> Relu -> GlobalAveragePool -> Flatten -> Gemm(4->3). */
export function tinyValid(): TinyModel {
  return {
    nodes: [
      { opType: 'Conv', name: 'conv', input: ['input', 'w'], output: ['c'], attribute: [ints('pads', [1, 1, 1, 1])] },
      { opType: 'Relu', name: 'relu', input: ['c'], output: ['r'] },
      { opType: 'GlobalAveragePool', name: 'gap', input: ['r'], output: ['p'] },
      { opType: 'Flatten', name: 'flat', input: ['p'], output: ['f'] },
      { opType: 'Gemm', name: 'fc', input: ['f', 'fw', 'fb'], output: ['y'], attribute: [int('transB', 1)] },
    ],
    inits: [floatInit('w', [4, 2, 3, 3]), floatInit('fw', [3, 4]), floatInit('fb', [3])],
  };
}
