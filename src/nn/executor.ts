/**
 * Runs a Graph on a Tape: the forward pass of any model in the IR, differentiable through the
 * tape. Quantization hooks (fake quant at stubs and activations) plug in through `NodeHook`.
 */
import { Tape, Var } from '../engine/autograd.ts';
import { opDef } from '../ops/registry.ts';
import type { ForwardCtx } from '../ops/types.ts';
import { graphOutputs, type Graph, type GraphNode } from '../graph/ir.ts';
import type { ParamStore } from './params.ts';

/**
 * Called with each node's output; may return a replacement (e.g. the fake-quantized value). `inputs`: the node's
 * inputs as it read them (after their hooks), for replacements computed from them (the exact integer forward).
 */
export type NodeHook = (node: GraphNode, value: Var, tape: Tape, inputs?: readonly Var[]) => Var;

/** Called with a conv/linear weight before use; may return a replacement (the fake-quantized weight). */
export type WeightHook = (node: GraphNode, weight: Var, tape: Tape) => Var;

/** Called with a node's bias (its op's quant.bias role) before use; may return a replacement (on the int32 grid). */
export type BiasHook = (node: GraphNode, bias: Var, tape: Tape) => Var;

/** The quantization hooks a run may carry (see src/quant/quantized-model.ts). */
export interface Hooks {
  hook?: NodeHook;
  weightHook?: WeightHook;
  biasHook?: BiasHook;
}

export interface RunOptions extends Hooks {
  /** Keep these node outputs (e.g. for per-layer statistics); returned in `values`. */
  keep?: (node: GraphNode) => boolean;
  /**
   * Outputs (after their hooks) of nodes already computed on this same input, e.g. the `values` of an earlier run
   * that this one agrees with up to some node: used as they are, and only the nodes that the graph's outputs still
   * need beyond them run (a node neither needed nor given is skipped, and not in `values`).
   */
  given?: ReadonlyMap<string, Var>;
}

export interface RunResult {
  /** The first output. */
  output: Var;
  /** Every output, in graphOutputs order (output first). */
  outputs: Var[];
  values: Map<string, Var>;
}

/**
 * The epilogue of a fused conv / linear (src/graph/passes/fuse.ts): y + addInput, then the fused
 * activation's own forward, composed from the autograd functions so fused models train (QAT on the fused model).
 */
export function fusedEpilogue(tape: Tape, n: GraphNode, y: Var, xs: Var[], c: ForwardCtx): Var {
  if (n.attrs.addInput) y = opDef('add').forward(tape, n, [y, xs[1]], c);
  if (n.attrs.act) y = opDef(n.attrs.act).forward(tape, n, [y], c);
  return y;
}

/** The nodes the graph's outputs need when the `given` nodes' values are known (those included, not their inputs). */
function neededNodes(graph: Graph, given: ReadonlyMap<string, Var>): Set<string> {
  const needed = new Set(graphOutputs(graph));
  for (let i = graph.nodes.length - 1; i >= 0; i--) {
    const n = graph.nodes[i];
    if (needed.has(n.id) && !given.has(n.id)) for (const x of n.inputs) needed.add(x);
  }
  return needed;
}

export function runGraph(tape: Tape, graph: Graph, store: ParamStore, input: Var, opts: RunOptions = {}): RunResult {
  const values = new Map<string, Var>();
  const kept = new Map<string, Var>();
  const p = (n: GraphNode, role: string) => {
    const v = store.param(n.params[role]);
    if (role === 'weight' && opts.weightHook) return opts.weightHook(n, v, tape);
    if (opts.biasHook && role === opDef(n.op).quant.bias?.role) return opts.biasHook(n, v, tape);
    return v;
  };
  const get = (id: string) => {
    const v = values.get(id);
    if (!v) throw new Error(`graph ${graph.name}: value ${id} used before it is computed`);
    return v;
  };
  const batch = input.shape[0];
  const needed = opts.given ? neededNodes(graph, opts.given) : null;
  for (const n of graph.nodes) {
    if (needed && !needed.has(n.id)) continue;
    const given = opts.given?.get(n.id);
    if (given) {
      values.set(n.id, given);
      if (opts.keep?.(n)) kept.set(n.id, given);
      continue;
    }
    const xs = n.inputs.map(get);
    const c: ForwardCtx = {
      param: (role) => p(n, role),
      buffer: (role) => store.buffer(n.params[role]),
      input, batch,
      epilogue: (y) => fusedEpilogue(tape, n, y, xs, c),
    };
    let y = opDef(n.op).forward(tape, n, xs, c);
    if (opts.hook) y = opts.hook(n, y, tape, xs);
    values.set(n.id, y);
    if (opts.keep?.(n)) kept.set(n.id, y);
  }
  return { output: get(graph.output), outputs: graphOutputs(graph).map(get), values: kept };
}
