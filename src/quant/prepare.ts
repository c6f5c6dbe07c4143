/**
 * prepare(): where fake quantization goes in a (fused) graph, as horizon_plugin_pytorch's prepare_qat
 * decides it, from each op's `quant` part in the operator registry (src/ops): activation sites on the
 * QuantStub output and the output of every op that produces a new quantized value inside the
 * QuantStub…DeQuantStub region (quant.output 'site': conv, linear, add, relu, pooling that averages,
 * concat). Ops that only move values ('inherit': flatten, reshape, identity, max pooling) keep their
 * input's scale. Weight sites: the declared weight (conv/linear), per output channel (axis 0). An op that
 * may keep an int32 output (quant.int32Output) does so when its only consumer is a DeQuantStub; a table op
 * (quant.int16Output) feeding only DeQuantStubs gets an int16 output instead of int8 (its int8 grid is the output's
 * floor, which QAT cannot move).
 */
import { convExactMode, type ExactOp } from '../qmath/requant-exact.ts';
import type { Graph, GraphNode } from '../graph/ir.ts';
import { consumersOf } from '../graph/passes/util.ts';
import { hasIntImpl, opDef } from '../ops/registry.ts';
import { dtypeRange } from '../qmath/qparams.ts';
import { specsFor, type QConfig, type TensorQuantSpec } from './qconfig.ts';

export interface ActSite {
  /** The node whose output is quantized. */
  node: string;
  spec: TensorQuantSpec;
  quantMin: number;
  quantMax: number;
}

export interface WeightSite {
  node: string;
  param: string;
  channels: number;
  spec: TensorQuantSpec;
  quantMin: number;
  quantMax: number;
}

/**
 * A bias that the integer model holds as int32 at x_scale * w_scale[c] (src/qmath/bias.ts): the fake-quant model puts
 * it on the same grid. `input` is the activation site whose scale the node's input carries (the input itself, or
 * the site before the ops that only move values: max pooling, reshape...), as convert reads it (LowerCtx.scalarScale).
 */
export interface BiasSite {
  node: string;
  param: string;
  input: string;
}

/**
 * An op whose fake-quant forward computes the simulator's integers (OpDef quant.exact, src/qmath/requant-exact.ts):
 * `inputs` are the activation sites whose scales its inputs carry (as `BiasSite.input`), in input order.
 */
export interface ExactSite {
  node: string;
  op: ExactOp;
  inputs: string[];
}

export interface QuantPlan {
  graph: Graph;
  qconfig: QConfig;
  acts: ActSite[];
  weights: WeightSite[];
  /** Biases on the int32 grid of their integer form (integer conv / linear / conv-transpose nodes with a bias). */
  biases: BiasSite[];
  /** Ops with the exact integer forward (each input on a site's grid, the output a per-tensor site). */
  exact: ExactSite[];
  /** conv/linear nodes with a high-precision int32 output. */
  int32Outputs: string[];
  /** Nodes computed in float (outside the region). */
  float: string[];
  /**
   * Float islands inside the region (a heterogeneous model): ops without an integer implementation on the march that
   * run in float between a dequantize and a quantize (their OpDef's floatIsland), and why. Convert may add more
   * (a lowering that has no integer layer for a case, e.g. a linear on tokens): the integer model's 'float' layers.
   */
  floatIslands: { node: string; reason: string }[];
}

export class PrepareError extends Error {}

/** Ids of nodes inside the quantized region: reachable from a QuantStub without crossing a DeQuantStub. */
export function quantizedRegion(g: Graph): Set<string> {
  const inside = new Set<string>();
  for (const n of g.nodes) {
    const region = opDef(n.op).quant.region;
    if (region === 'enter' || region === 'const') inside.add(n.id);
    else if (region !== 'leave' && n.inputs.length > 0 && n.inputs.every((i) => inside.has(i))) inside.add(n.id);
  }
  return inside;
}

export function prepare(g: Graph, qc: QConfig): QuantPlan {
  const inside = quantizedRegion(g);
  const acts: ActSite[] = [];
  const weights: WeightSite[] = [];
  const biases: BiasSite[] = [];
  const exact: ExactSite[] = [];
  const int32Outputs: string[] = [];
  const float: string[] = [];
  const floatIslands: { node: string; reason: string }[] = [];
  const paramShape = (name: string) => {
    const p = g.params.find((x) => x.name === name);
    if (!p) throw new Error(`graph ${g.name}: no parameter ${name}`);
    return p.shape;
  };
  for (const n of g.nodes) {
    const def = opDef(n.op);
    if (def.quant.region === 'leave') continue;
    if (!inside.has(n.id)) {
      float.push(n.id);
      continue;
    }
    // No integer implementation on this march: a float island where the op can run as one, else refused by name.
    const noInt = floatIslandReason(n, qc.march);
    if (noInt && def.floatIsland) floatIslands.push({ node: n.id, reason: noInt });
    else if ('lower' in def.int && def.int.marches && !hasIntImpl(n.op, qc.march)) {
      throw new PrepareError(`${def.view.label} has no integer implementation for march ${qc.march} (node ${n.id}; it has one for ${def.int.marches.join(', ')})`);
    }
    // Horizon's high-precision output, for a node whose only consumers are DeQuantStubs: a conv / linear keeps its
    // int32 accumulator, a table op (sigmoid ...) an int16 output; the qconfig's highPrecisionOutput, or a per-node
    // override's int32Output, switches it (the one place that decides both)
    const highPrecision = feedsOnlyDequant(g, n) && (specsFor(qc, n.id).int32Output ?? qc.highPrecisionOutput);
    const s = specsFor(qc, n.id, def.quant.outputDtype ?? (highPrecision && def.quant.int16Output ? 'qint16' : undefined));
    if (def.quant.weight) {
      const wr = dtypeRange(s.weight.dtype);
      const param = n.params[def.quant.weight.role];
      weights.push({ node: n.id, param, channels: paramShape(param)[def.quant.weight.axis], spec: s.weight, ...wr });
    }
    // A float island keeps its bias float (floatLinear adds it as the fake-quant model does).
    const bias = def.quant.bias && n.params[def.quant.bias.role];
    if (bias && !noInt && 'lower' in def.int) {
      const input = scaleSite(g, n.inputs[0], acts);
      if (input) biases.push({ node: n.id, param: bias, input });
    }
    if (def.quant.output !== 'site') continue;
    if (def.quant.int32Output && highPrecision) {
      int32Outputs.push(n.id);
      continue;
    }
    let spec = s.activation;
    if (def.quant.region === 'enter' && qc.quantStubScale !== null) spec = { ...spec, observer: 'fixed_scale', fixedScale: qc.quantStubScale, averagingConstant: 0 };
    acts.push({ node: n.id, spec, ...dtypeRange(spec.dtype) });
    const op = def.quant.exact;
    if (op && !noInt && n.inputs.length === (op === 'rescale' ? n.inputs.length : op === 'conv' ? (n.attrs.addInput ? 2 : 1) : op === 'gap' ? 1 : 2)) {
      const inputs = n.inputs.map((i) => scaleSite(g, i, acts));
      if (inputs.every((i) => i !== undefined) && (op !== 'conv' || convExact(n, s.weight, acts.find((a) => a.node === inputs[0])!, paramShape))) {
        exact.push({ node: n.id, op, inputs: inputs as string[] });
      }
    }
  }
  return { graph: g, qconfig: qc, acts, weights, biases, exact, int32Outputs, float, floatIslands };
}

/**
 * The activation site whose scale value `id` carries: its own site, or through the ops that only move values
 * (quant.output 'inherit') the site before them, as convert propagates value scales. Undefined: no per-tensor scale
 * (a float value, or an int32 accumulator).
 */
function scaleSite(g: Graph, id: string, acts: readonly ActSite[]): string | undefined {
  for (let cur: string | undefined = id; cur;) {
    if (acts.some((a) => a.node === cur)) return cur;
    const n = g.nodes.find((m) => m.id === cur);
    if (!n || opDef(n.op).quant.output !== 'inherit') return undefined;
    cur = n.inputs[0];
  }
  return undefined;
}

/**
 * A conv whose fake-quant forward can be the simulator's integers: int8 weights, a fused ReLU / ReLU6 at most, and every
 * partial sum of its integer products exact in float32 (convExactMode; int8 inputs: fewer than 8 192 taps per output).
 */
function convExact(n: GraphNode, w: TensorQuantSpec, x: ActSite, paramShape: (name: string) => number[]): boolean {
  if (n.op !== 'conv2d' || !n.attrs.conv || (n.attrs.act && n.attrs.act !== 'relu' && n.attrs.act !== 'relu6')) return false;
  const { quantMin, quantMax } = dtypeRange(w.dtype);
  if (quantMin < -128 || quantMax > 127) return false;
  const [, cg, kh, kw] = paramShape(n.params.weight);
  return convExactMode(cg * kh * kw, Math.max(-x.quantMin, x.quantMax), Math.max(-quantMin, quantMax)) !== null;
}

/** Why a node has no integer implementation on a march (null: it has one). */
export function floatIslandReason(n: GraphNode, march: string): string | null {
  const def = opDef(n.op);
  if ('none' in def.int) return def.int.none;
  if (!hasIntImpl(n.op, march)) return `${def.view.label} has no integer implementation for march ${march} (it has one for ${def.int.marches!.join(', ')})`;
  return def.int.floatIf?.(n) ?? null;
}

function feedsOnlyDequant(g: Graph, n: GraphNode): boolean {
  const cs = consumersOf(g, n.id);
  return cs.length > 0 && cs.every((c) => opDef(c.op).quant.region === 'leave');
}
