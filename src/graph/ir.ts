/**
 * The one graph IR shared by zoo models and (later) imported ONNX: nodes with an op, attributes,
 * inputs, a namespace path for grouping in the viewer, and parameter references. Each node
 * produces one value, named by the node's id. QuantStub/DeQuantStub nodes bound the quantized region.
 */
import type { Conv2dParams, Pool2dParams } from '../engine/backend.ts';
import type { ResizeAttrs } from '../qmath/resize-taps.ts';
import { opDef, type OpType } from '../ops/registry.ts';

/** The op types are the operator registry's keys (src/ops/registry.ts): one op, one place. */
export type { OpType } from '../ops/registry.ts';

export interface NodeAttrs {
  conv?: Conv2dParams;
  pool?: Pool2dParams;
  /** batchnorm2d */
  eps?: number;
  momentum?: number;
  /** reshape: per-sample target shape (batch dimension excluded) */
  shape?: number[];
  /** hardsigmoid (alpha, beta), leakyrelu (alpha), clip (alpha = min, beta = max; open bounds are ±f32 max). */
  actParams?: { alpha: number; beta: number };
  /** slice: the channel range [start, end) (ONNX Slice / Split on axis 1). */
  slice?: { start: number; end: number };
  /** channel_shuffle: the number of groups (ShuffleNet's view [g, C/g], transpose, view [C]). */
  groups?: number;
  /** Fused conv2d / linear (src/graph/passes/fuse.ts): activation applied to the output (after addInput). */
  act?: FusedAct;
  /** Fused conv2d: the node has a second input, added to its output before the activation (Conv+Add+ReLU). */
  addInput?: true;
  /** Fused node: ids of the original nodes it replaces, the anchor (conv / linear) first, for the viewer. */
  fusedFrom?: string[];
  /** affine: y = x * factor + offset (scalar constants: Mul / Div by a constant, Sub / Add of one). */
  affine?: { factor: number; offset: number };
  /** resize_nearest / resize_linear (ONNX Resize, Upsample): output size, scales, coordinate and rounding modes. */
  resize?: ResizeAttrs;
  /** conv_transpose2d: output padding (rows, columns) added after the last output position. */
  outputPadding?: [number, number];
}

/** An op whose OpDef has fusion.act (relu, relu6), fused into a conv / linear as its epilogue. */
export type FusedAct = OpType;

export interface GraphNode {
  id: string;
  op: OpType;
  inputs: string[];
  attrs: NodeAttrs;
  /** Parameter role -> parameter name, e.g. { weight: 'conv1.weight' }. */
  params: Record<string, string>;
  /** Grouping path for the viewer, e.g. 'block2/conv'. */
  namespace: string;
  /** Per-sample output shape (batch dimension excluded). */
  shape: number[];
}

export type ParamInit = 'kaiming_uniform' | 'bias_uniform' | 'ones' | 'zeros';

export interface ParamSpec {
  name: string;
  shape: number[];
  init: ParamInit;
  /** For the uniform initialisers: bound = 1 / sqrt(fanIn) (PyTorch's default for conv and linear). */
  fanIn?: number;
  /** 'buffer': state that is not trained (batch-norm running statistics). */
  kind: 'param' | 'buffer';
}

export interface Graph {
  name: string;
  /** Per-sample input shape [C, H, W]. */
  inputShape: number[];
  numClasses: number;
  nodes: GraphNode[];
  /** The (first) output. */
  output: string;
  /**
   * Every output, in order (output first), each of any per-sample shape (feature maps, boxes, masks, embeddings);
   * absent: the one output. Read through graphOutputs everywhere (importer, passes, executor, convert, simulator,
   * model file, QDQ export, deployment check, viewer).
   */
  outputs?: string[];
  params: ParamSpec[];
}

/** The graph's outputs in order: `outputs`, or the one `output`. */
export function graphOutputs(g: Pick<Graph, 'output' | 'outputs'>): string[] {
  return g.outputs && g.outputs.length ? g.outputs : [g.output];
}

/**
 * The user-facing names of the outputs, in order (report rows, the viewer, the QDQ export's output names): 'logits'
 * for a single output, else each DeQuantStub's id without its 'dequant_' prefix (the ONNX importer names them
 * dequant_<the file's output name>).
 */
export function outputNames(g: Pick<Graph, 'output' | 'outputs'>): string[] {
  const outs = graphOutputs(g);
  if (outs.length === 1) return ['logits'];
  const names = outs.map(outputNameOf);
  return new Set(names).size === names.length ? names : outs;
}

/** One of several outputs' name from its DeQuantStub's id (dequant_<name> -> name). */
export const outputNameOf = (id: string): string => id.replace(/^dequant_(?=.)/, '');

export function nodeById(g: Graph, id: string): GraphNode {
  const n = g.nodes.find((x) => x.id === id);
  if (!n) throw new Error(`graph ${g.name}: no node ${id}`);
  return n;
}

export function parameterCount(g: Graph): number {
  return g.params.filter((p) => p.kind === 'param').reduce((s, p) => s + p.shape.reduce((a, b) => a * b, 1), 0);
}

/** Multiply-accumulates of one forward pass of one sample (each op's `macs`, src/ops). */
export function macsPerSample(g: Graph): number {
  let macs = 0;
  for (const n of g.nodes) {
    macs += opDef(n.op).macs(n, (role) => {
      const p = g.params.find((x) => x.name === n.params[role]);
      if (!p) throw new Error(`graph ${g.name}: node ${n.id} has no ${role} parameter`);
      return p.shape;
    });
  }
  return macs;
}
