/**
 * prepare(): where fake quantization goes in a (fused) graph, as horizon_plugin_pytorch's prepare_qat
 * decides it. Activation sites: the QuantStub output and the output of every op that produces a new
 * quantized value inside the QuantStub…DeQuantStub region (conv, linear, add, relu, pooling that
 * averages, concat). Ops that only move values (flatten, reshape, identity, max pooling) keep their
 * input's scale. Weight sites: every conv/linear weight, per output channel (axis 0). A conv/linear
 * whose only consumer is a DeQuantStub may keep an int32 output (no activation fake quant).
 */
import type { Graph, GraphNode, OpType } from '../graph/ir.ts';
import { consumersOf } from '../graph/passes/util.ts';
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

export interface QuantPlan {
  graph: Graph;
  qconfig: QConfig;
  acts: ActSite[];
  weights: WeightSite[];
  /** conv/linear nodes with a high-precision int32 output. */
  int32Outputs: string[];
  /** Nodes computed in float (outside the region). */
  float: string[];
}

const NEW_VALUE_OPS: ReadonlySet<OpType> = new Set<OpType>([
  'quant_stub', 'conv2d', 'linear', 'add', 'relu', 'relu6', 'avgpool2d', 'global_avgpool', 'concat',
]);

/** Ids of nodes inside the quantized region: reachable from a QuantStub without crossing a DeQuantStub. */
export function quantizedRegion(g: Graph): Set<string> {
  const inside = new Set<string>();
  for (const n of g.nodes) {
    if (n.op === 'quant_stub') inside.add(n.id);
    else if (n.op !== 'input' && n.op !== 'dequant_stub' && n.inputs.length > 0 && n.inputs.every((i) => inside.has(i))) inside.add(n.id);
  }
  return inside;
}

export function prepare(g: Graph, qc: QConfig): QuantPlan {
  const inside = quantizedRegion(g);
  const acts: ActSite[] = [];
  const weights: WeightSite[] = [];
  const int32Outputs: string[] = [];
  const float: string[] = [];
  const paramShape = (name: string) => {
    const p = g.params.find((x) => x.name === name);
    if (!p) throw new Error(`graph ${g.name}: no parameter ${name}`);
    return p.shape;
  };
  for (const n of g.nodes) {
    if (n.op === 'input' || n.op === 'dequant_stub') continue;
    if (!inside.has(n.id)) {
      float.push(n.id);
      continue;
    }
    const s = specsFor(qc, n.id);
    if (n.op === 'conv2d' || n.op === 'linear') {
      const wr = dtypeRange(s.weight.dtype);
      weights.push({ node: n.id, param: n.params.weight, channels: paramShape(n.params.weight)[0], spec: s.weight, ...wr });
    }
    if (!NEW_VALUE_OPS.has(n.op)) continue;
    if ((n.op === 'conv2d' || n.op === 'linear') && feedsOnlyDequant(g, n) && (s.int32Output ?? qc.highPrecisionOutput)) {
      int32Outputs.push(n.id);
      continue;
    }
    let spec = s.activation;
    if (n.op === 'quant_stub' && qc.quantStubScale !== null) spec = { ...spec, observer: 'fixed_scale', fixedScale: qc.quantStubScale, averagingConstant: 0 };
    acts.push({ node: n.id, spec, ...dtypeRange(spec.dtype) });
  }
  return { graph: g, qconfig: qc, acts, weights, int32Outputs, float };
}

function feedsOnlyDequant(g: Graph, n: GraphNode): boolean {
  const cs = consumersOf(g, n.id);
  return cs.length > 0 && cs.every((c) => c.op === 'dequant_stub');
}
