/**
 * Operator fusion before quantization, as horizon_plugin_pytorch / torch.ao fuse modules: a pattern
 * table (op tuple -> fuser) applied as passes, in this order:
 *
 *  1. fold_bn    Conv+BN, Linear+BN(1d)        BN folded exactly into the weight and bias (eval-mode BN)
 *  2. bn_as_conv BN2d after anything else      the BN becomes a depthwise 1x1 conv with the same per-channel
 *                                              scale and shift (DenseNet's BN after a concat), so it quantizes,
 *                                              converts and fuses its activation like any conv
 *  3. fuse_add   Conv+Add(+ReLU|ReLU6)         the add's other operand becomes the conv's second input
 *  4. fuse_act   Conv|Linear + ReLU|ReLU6      the activation becomes the node's `act` attribute
 *
 * A fused node keeps op 'conv2d' / 'linear' and the anchor's id, params and namespace; its value is
 *   act(conv(x, w', b') + addInput)
 * The add must come BEFORE the activation: Conv+ReLU followed by Add is not a fusable pattern (the
 * activation is fused and the add stays; see check.ts for the report).
 *
 * Matching rules: every intermediate value of a chain has exactly one use (one input edge of the next
 * node of the chain, and it is not the graph output), so nothing else observes a value that fusion
 * removes. The fused node takes the place of the chain's last node, so every input it gains (the add's
 * other operand) is already computed there.
 *
 * Pure: the input graph and host params are never mutated; each pass works on its own copy, and the
 * graph after each pass is kept in `steps`.
 */
import type { FusedAct, Graph, GraphNode, OpType, ParamSpec } from '../ir.ts';
import type { HostParams } from '../../nn/params.ts';
import { FUSABLE_ACTS, OP_TYPES, opDef } from '../../ops/registry.ts';
import { useCounts, validateGraph } from './util.ts';

export { consumersOf, useCounts, validateGraph } from './util.ts';

export interface FusionGroup {
  /** Pattern name, e.g. 'conv2d+batchnorm2d'. */
  pattern: string;
  /** Ids of the nodes fused, anchor first. */
  nodes: string[];
  /** Id of the fused node (the anchor's id). */
  into: string;
}

export interface FuseStep {
  pass: string;
  /** The graph after this pass (an independent copy). */
  graph: Graph;
  fused: FusionGroup[];
}

export interface FuseResult {
  graph: Graph;
  host: HostParams;
  steps: FuseStep[];
}

/** Working state of one pass: the graph and host params copies it may modify. */
export interface FuseContext {
  graph: Graph;
  host: HostParams;
}

export interface FusionPattern {
  ops: OpType[];
  /** Extra condition on a chain whose ops and single-use links already match. */
  accept?: (chain: GraphNode[], ctx: FuseContext) => boolean;
  /** Rewrites the anchor (chain[0]) so that it computes the whole chain; `absorb` does the rest. */
  fuse: (chain: GraphNode[], ctx: FuseContext) => void;
}

export interface FusionPass {
  name: string;
  /** Tried in order at each node: longest patterns first. */
  patterns: FusionPattern[];
}


/** Whether any node other than `except` refers to parameter `name`. */
function paramShared(g: Graph, name: string, except: GraphNode): boolean {
  return g.nodes.some((n) => n !== except && Object.values(n.params).includes(name));
}

/** A conv / linear that can still take more fused work: its parameters are its own. */
function ownsParams(ctx: FuseContext, n: GraphNode): boolean {
  return Object.values(n.params).every((p) => !paramShared(ctx.graph, p, n));
}

// ---------------------------------------------------------------------------------------------
// Fusers

function hostParam(host: HostParams, name: string): Float32Array {
  const v = host[name];
  if (!v) throw new Error(`fuse: missing parameter ${name}`);
  return v;
}

/** w' = w * gamma / sqrt(var + eps) per output channel, b' = (b - mean) * gamma / sqrt(var + eps) + beta. */
function foldBn([anchor, bn]: GraphNode[], ctx: FuseContext): void {
  const { graph: g, host } = ctx;
  const get = (name: string) => hostParam(host, name);
  const w = get(anchor.params.weight);
  const outC = g.params.find((p) => p.name === anchor.params.weight)!.shape[0];
  const gamma = get(bn.params.weight), beta = get(bn.params.bias);
  const mean = get(bn.params.running_mean), variance = get(bn.params.running_var);
  if (gamma.length !== outC) throw new Error(`fuse: ${bn.id} has ${gamma.length} channels, ${anchor.id} ${outC}`);
  const eps = bn.attrs.eps ?? 1e-5;
  const b = anchor.params.bias ? get(anchor.params.bias) : null;
  const inner = w.length / outC;
  const w2 = new Float32Array(w.length), b2 = new Float32Array(outC);
  for (let o = 0; o < outC; o++) {
    const s = gamma[o] / Math.sqrt(variance[o] + eps);
    for (let i = o * inner; i < (o + 1) * inner; i++) w2[i] = w[i] * s;
    b2[o] = ((b ? b[o] : 0) - mean[o]) * s + beta[o];
  }
  host[anchor.params.weight] = w2;
  if (!anchor.params.bias) {
    let name = `${anchor.id}.bias`;
    for (let k = 1; g.params.some((p) => p.name === name) || name in host; k++) name = `${anchor.id}.bias_${k}`;
    const wSpec = g.params.find((p) => p.name === anchor.params.weight)!;
    const spec: ParamSpec = { name, shape: [outC], init: 'bias_uniform', kind: 'param', fanIn: wSpec.fanIn ?? inner };
    g.params.splice(g.params.indexOf(wSpec) + 1, 0, spec);
    anchor.params = { ...anchor.params, bias: name };
  }
  host[anchor.params.bias] = b2;
  // The BN's parameters and buffers disappear (unless another node still refers to them).
  for (const name of Object.values(bn.params)) {
    if (paramShared(g, name, bn)) continue;
    g.params = g.params.filter((p) => p.name !== name);
    delete host[name];
  }
}

/**
 * A BN2d no conv takes, as a depthwise 1x1 conv: w[c] = gamma / sqrt(var + eps), b[c] = beta - mean * w[c] (the
 * eval-mode BN exactly). The conv reuses the BN's weight / bias names; its running statistics disappear.
 */
function bnAsConv([bn]: GraphNode[], ctx: FuseContext): void {
  const { graph: g, host } = ctx;
  const get = (name: string) => hostParam(host, name);
  const gamma = get(bn.params.weight), beta = get(bn.params.bias);
  const mean = get(bn.params.running_mean), variance = get(bn.params.running_var);
  const c = bn.shape[0];
  const eps = bn.attrs.eps ?? 1e-5;
  const w = new Float32Array(c), b = new Float32Array(c);
  for (let o = 0; o < c; o++) {
    w[o] = gamma[o] / Math.sqrt(variance[o] + eps);
    b[o] = beta[o] - mean[o] * w[o];
  }
  host[bn.params.weight] = w;
  host[bn.params.bias] = b;
  for (const role of ['running_mean', 'running_var']) {
    g.params = g.params.filter((p) => p.name !== bn.params[role]);
    delete host[bn.params[role]];
  }
  g.params = g.params.map((p) => (p.name === bn.params.weight ? { name: p.name, shape: [c, 1, 1, 1], init: 'kaiming_uniform', kind: 'param', fanIn: 1 }
    : p.name === bn.params.bias ? { name: p.name, shape: [c], init: 'bias_uniform', kind: 'param', fanIn: 1 } : p));
  bn.op = 'conv2d';
  bn.params = { weight: bn.params.weight, bias: bn.params.bias };
  bn.attrs = { conv: { strideH: 1, strideW: 1, padH: 0, padW: 0, dilationH: 1, dilationW: 1, groups: c } };
}

function fuseAdd(chain: GraphNode[]): void {
  const [anchor, add] = chain;
  const other = add.inputs[0] === anchor.id ? add.inputs[1] : add.inputs[0];
  anchor.inputs = [anchor.inputs[0], other];
  anchor.attrs.addInput = true;
  if (chain[2]) anchor.attrs.act = chain[2].op as FusedAct;
}

function fuseAct([anchor, act]: GraphNode[]): void {
  anchor.attrs.act = act.op as FusedAct;
}

// ---------------------------------------------------------------------------------------------
// The pattern table

const noEpilogue = (n: GraphNode) => !n.attrs.act && !n.attrs.addInput;

/**
 * The add's conv operand: the first input produced by a conv that has no other use and no fused
 * activation or add yet (so for an add of two such convs, the first input wins).
 */
export function addConvOperand(g: Graph, add: GraphNode, uses = useCounts(g)): GraphNode | null {
  if (!opDef(add.op).fusion.add || add.inputs.length !== 2) return null;
  for (const id of add.inputs) {
    const p = g.nodes.find((n) => n.id === id);
    if (p && opDef(p.op).fusion.anchor?.add && noEpilogue(p) && uses.get(id) === 1) return p;
  }
  return null;
}

const bnPattern = (anchor: OpType, bn: OpType): FusionPattern => ({
  ops: [anchor, bn],
  accept: ([a], ctx) => noEpilogue(a) && ownsParams(ctx, a),
  fuse: foldBn,
});

const addPattern = (anchor: OpType, add: OpType, act?: FusedAct): FusionPattern => ({
  ops: act ? [anchor, add, act] : [anchor, add],
  accept: ([conv, addNode], ctx) => addConvOperand(ctx.graph, addNode) === conv,
  fuse: fuseAdd,
});

const actPattern = (anchor: OpType, act: FusedAct): FusionPattern => ({
  ops: [anchor, act],
  accept: ([a]) => !a.attrs.act,
  fuse: fuseAct,
});

/**
 * The pattern table, built from the registry's fusion roles (src/ops): each anchor with each op it takes, the
 * activations in registry order, the longer add patterns (with an activation) first.
 */
function buildPasses(): FusionPass[] {
  const with_ = (pred: (t: OpType) => boolean) => OP_TYPES.filter(pred);
  const anchors = (k: 'foldBn' | 'add' | 'act') => with_((t) => !!opDef(t).fusion.anchor?.[k]);
  const bns = with_((t) => !!opDef(t).fusion.bn);
  const adds = with_((t) => !!opDef(t).fusion.add);
  return [
    { name: 'fold_bn', patterns: anchors('foldBn').flatMap((a) => bns.map((b) => bnPattern(a, b))) },
    // Only 2-D batch norms over NCHW (a per-sample shape [C, H, W]) with parameters of their own.
    { name: 'bn_as_conv', patterns: bns.map((b) => ({ ops: [b], accept: ([n], ctx) => n.shape.length === 3 && ownsParams(ctx, n), fuse: bnAsConv })) },
    {
      name: 'fuse_add',
      patterns: anchors('add').flatMap((a) => adds.flatMap((ad) => [...FUSABLE_ACTS.map((act) => addPattern(a, ad, act)), addPattern(a, ad)])),
    },
    { name: 'fuse_act', patterns: anchors('act').flatMap((a) => FUSABLE_ACTS.map((act) => actPattern(a, act))) },
  ];
}

export const FUSION_PASSES: FusionPass[] = buildPasses();

/** The pattern table as op tuple -> pattern, e.g. 'conv2d,add,relu'. */
export const FUSION_TABLE: ReadonlyMap<string, FusionPattern> = new Map(
  FUSION_PASSES.flatMap((p) => p.patterns.map((pt) => [pt.ops.join(','), pt] as const)),
);

// ---------------------------------------------------------------------------------------------
// Matching and rewriting

/** The chain starting at `start` whose ops are `ops`, each link the only use of the previous value. */
function matchChain(g: Graph, start: GraphNode, ops: OpType[], uses: Map<string, number>): GraphNode[] | null {
  if (start.op !== ops[0]) return null;
  const chain = [start];
  for (let k = 1; k < ops.length; k++) {
    const prev = chain[k - 1];
    if (uses.get(prev.id) !== 1) return null;
    const next = g.nodes.find((n) => n.inputs.includes(prev.id));
    if (!next || next.op !== ops[k]) return null;
    chain.push(next);
  }
  return chain;
}

/**
 * Removes chain[1..] from the graph: the anchor takes the last node's place, every reference to a
 * removed node (inputs, graph output) is re-pointed to the anchor, and fusedFrom names the parts.
 */
function absorb(g: Graph, chain: GraphNode[]): void {
  const [anchor] = chain;
  const last = chain[chain.length - 1];
  const removed = new Set(chain.slice(1).map((n) => n.id));
  anchor.attrs.fusedFrom = [anchor, ...chain.slice(1)].flatMap((n) => n.attrs.fusedFrom ?? [n.id]);
  anchor.shape = [...last.shape];
  const nodes: GraphNode[] = [];
  for (const n of g.nodes) {
    if (n === last) nodes.push(anchor);
    else if (n !== anchor && !removed.has(n.id)) nodes.push(n);
  }
  const repoint = (id: string) => (removed.has(id) ? anchor.id : id);
  for (const n of nodes) if (n !== anchor) n.inputs = n.inputs.map(repoint);
  g.nodes = nodes;
  g.output = repoint(g.output);
  if (g.outputs) g.outputs = g.outputs.map(repoint);
}

function findMatch(ctx: FuseContext, pass: FusionPass): { pattern: FusionPattern; chain: GraphNode[] } | null {
  const uses = useCounts(ctx.graph);
  for (const start of ctx.graph.nodes) {
    for (const pattern of pass.patterns) {
      const chain = matchChain(ctx.graph, start, pattern.ops, uses);
      if (chain && (!pattern.accept || pattern.accept(chain, ctx))) return { pattern, chain };
    }
  }
  return null;
}

/** Runs one pass to a fixed point on `ctx` (modified in place). */
export function runPass(ctx: FuseContext, pass: FusionPass): FusionGroup[] {
  const fused: FusionGroup[] = [];
  for (let m = findMatch(ctx, pass); m; m = findMatch(ctx, pass)) {
    const { pattern, chain } = m;
    fused.push({ pattern: pattern.ops.join('+'), nodes: chain.map((n) => n.id), into: chain[0].id });
    pattern.fuse(chain, ctx);
    absorb(ctx.graph, chain);
  }
  return fused;
}

const cloneGraph = (g: Graph): Graph => structuredClone(g);

export function fuse(graph: Graph, host: HostParams, passes: FusionPass[] = FUSION_PASSES): FuseResult {
  validateGraph(graph);
  const ctx: FuseContext = {
    graph: cloneGraph(graph),
    host: Object.fromEntries(Object.entries(host).map(([k, v]) => [k, v.slice()])),
  };
  const steps: FuseStep[] = [];
  for (const pass of passes) {
    const fused = runPass(ctx, pass);
    validateGraph(ctx.graph);
    steps.push({ pass: pass.name, graph: cloneGraph(ctx.graph), fused });
  }
  return { graph: ctx.graph, host: ctx.host, steps };
}
