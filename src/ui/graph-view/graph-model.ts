/**
 * The graph as the viewer draws it (pure, no DOM): one node per IR node, a fused node naming its
 * parts (fusedFrom), edges from inputs, and each node's dtype from the quantization plan: int8 /
 * int16 where an activation site quantizes the output, int32 for high-precision outputs, float outside
 * the QuantStub…DeQuantStub region; value-moving ops (flatten, max pool…) keep their input's dtype.
 */
import { graphOutputs, outputNames, type Graph, type GraphNode } from '../../graph/ir.ts';
import { opDef } from '../../ops/registry.ts';
import type { QuantPlan } from '../../quant/prepare.ts';

export type Dtype = 'float' | 'int8' | 'int16' | 'int32';
export const DTYPES: readonly Dtype[] = ['float', 'int8', 'int16', 'int32'];

export interface ViewNode {
  id: string;
  op: string;
  /** The op with its fused parts, e.g. "conv2d+bn+relu". */
  label: string;
  /** The op's name and attributes as its OpDef shows them (src/ops), e.g. "Conv2d s2 p1 g32 +relu". */
  detail: string;
  shape: number[];
  namespace: string;
  fusedFrom: string[] | null;
  dtype: Dtype;
  inputs: string[];
  /** A graph output: its name ('logits', or the file's output name) and place, e.g. "output 2 of 2: scores". */
  output?: { name: string; index: number; of: number };
}
export interface ViewEdge { from: string; to: string }
export interface ViewGraph { nodes: ViewNode[]; edges: ViewEdge[] }

export function dtypesOf(g: Graph, plan: QuantPlan | null): Map<string, Dtype> {
  const out = new Map<string, Dtype>();
  const acts = new Map(plan?.acts.map((a) => [a.node, a.spec.dtype === 'qint16' ? 'int16' as const : 'int8' as const]) ?? []);
  const int32 = new Set(plan?.int32Outputs ?? []);
  const float = new Set(plan?.float ?? []);
  for (const n of g.nodes) {
    let d: Dtype = 'float';
    if (!plan || opDef(n.op).quant.region === 'leave' || float.has(n.id)) d = 'float';
    else if (int32.has(n.id)) d = 'int32';
    else if (acts.has(n.id)) d = acts.get(n.id)!;
    else if (n.inputs.length) d = out.get(n.inputs[0]) ?? 'float';
    out.set(n.id, d);
  }
  return out;
}

function labelOf(g: Graph, id: string): string {
  const n = g.nodes.find((x) => x.id === id)!;
  if (!n.attrs.fusedFrom) return n.op;
  const parts = n.attrs.fusedFrom.map((p) => p.split('.').pop() ?? p);
  return `${n.op} [${parts.join('+')}]`;
}

function detailOf(n: GraphNode): string {
  const v = opDef(n.op).view;
  const a = v.attrs(n);
  return a ? `${v.label} ${a}` : v.label;
}

export function buildViewGraph(g: Graph, plan: QuantPlan | null): ViewGraph {
  const dt = dtypesOf(g, plan);
  // Every output is labelled with its name (a model with several outputs: each DeQuantStub says which it is).
  const outs = graphOutputs(g), names = outputNames(g);
  const nodes: ViewNode[] = g.nodes.map((n) => {
    const k = outs.indexOf(n.id);
    const output = k < 0 ? undefined : { name: names[k], index: k + 1, of: outs.length };
    return {
      id: n.id, op: n.op, label: output ? `output ${output.name}` : labelOf(g, n.id), detail: detailOf(n), shape: n.shape, namespace: n.namespace,
      fusedFrom: n.attrs.fusedFrom ?? null, dtype: dt.get(n.id) ?? 'float', inputs: [...n.inputs], ...(output ? { output } : {}),
    };
  });
  const edges = g.nodes.flatMap((n) => n.inputs.map((i) => ({ from: i, to: n.id })));
  return { nodes, edges };
}

/** A synthetic graph of n nodes (a chain with a skip every 4 nodes), for layout timing and the large-graph view. */
export function syntheticGraph(n: number): ViewGraph {
  const nodes: ViewNode[] = [];
  const edges: ViewEdge[] = [];
  for (let i = 0; i < n; i++) {
    const inputs = i === 0 ? [] : i % 4 === 0 && i >= 4 ? [`n${i - 1}`, `n${i - 4}`] : [`n${i - 1}`];
    nodes.push({ id: `n${i}`, op: i % 4 === 0 ? 'add' : 'conv2d', label: i % 4 === 0 ? 'add' : 'conv2d', detail: '', shape: [8, 8, 8], namespace: '', fusedFrom: null, dtype: 'int8', inputs });
    for (const f of inputs) edges.push({ from: f, to: `n${i}` });
  }
  return { nodes, edges };
}
