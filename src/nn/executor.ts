/**
 * Runs a Graph on a Tape: the forward pass of any model in the IR, differentiable through the
 * tape. Quantization hooks (fake quant at stubs and activations) plug in through `NodeHook`.
 */
import { Tape, Var } from '../engine/autograd.ts';
import { conv2dFn } from '../engine/fns/conv.ts';
import { linearFn } from '../engine/fns/dense.ts';
import { batchNormFn } from '../engine/fns/norm.ts';
import { addFn, clampFn, RELU, RELU6 } from '../engine/fns/activation.ts';
import { avgPoolFn, concatFn, globalAvgPoolFn, maxPoolFn, reshapeFn } from '../engine/fns/pool.ts';
import type { Graph, GraphNode } from '../graph/ir.ts';
import type { ParamStore } from './params.ts';

/** Called with each node's output; may return a replacement (e.g. the fake-quantized value). */
export type NodeHook = (node: GraphNode, value: Var, tape: Tape) => Var;

/** Called with a conv/linear weight before use; may return a replacement (the fake-quantized weight). */
export type WeightHook = (node: GraphNode, weight: Var, tape: Tape) => Var;

/** The quantization hooks a run may carry (see src/quant/quantized-model.ts). */
export interface Hooks {
  hook?: NodeHook;
  weightHook?: WeightHook;
}

export interface RunOptions extends Hooks {
  /** Keep these node outputs (e.g. for per-layer statistics); returned in `values`. */
  keep?: (node: GraphNode) => boolean;
}

export interface RunResult {
  output: Var;
  values: Map<string, Var>;
}

/**
 * The epilogue of a fused conv / linear (src/graph/passes/fuse.ts): y + addInput, then the fused
 * activation, composed from the autograd functions so fused models train (QAT on the fused model).
 */
function fusedEpilogue(tape: Tape, n: GraphNode, y: Var, xs: Var[]): Var {
  if (n.attrs.addInput) y = tape.apply(addFn, [y, xs[1]], null);
  if (n.attrs.act === 'relu') y = tape.apply(clampFn, [y], RELU);
  else if (n.attrs.act === 'relu6') y = tape.apply(clampFn, [y], RELU6);
  return y;
}

export function runGraph(tape: Tape, graph: Graph, store: ParamStore, input: Var, opts: RunOptions = {}): RunResult {
  const values = new Map<string, Var>();
  const kept = new Map<string, Var>();
  const p = (n: GraphNode, role: string) => {
    const v = store.param(n.params[role]);
    return role === 'weight' && opts.weightHook ? opts.weightHook(n, v, tape) : v;
  };
  const get = (id: string) => {
    const v = values.get(id);
    if (!v) throw new Error(`graph ${graph.name}: value ${id} used before it is computed`);
    return v;
  };
  const batch = input.shape[0];
  for (const n of graph.nodes) {
    const xs = n.inputs.map(get);
    let y: Var;
    switch (n.op) {
      case 'input': y = input; break;
      case 'quant_stub': case 'dequant_stub': case 'identity': y = xs[0]; break;
      case 'conv2d': {
        const ins = [xs[0], p(n, 'weight')];
        if (n.params.bias) ins.push(p(n, 'bias'));
        y = fusedEpilogue(tape, n, tape.apply(conv2dFn, ins, n.attrs.conv!), xs);
        break;
      }
      case 'linear': {
        const ins = [xs[0], p(n, 'weight')];
        if (n.params.bias) ins.push(p(n, 'bias'));
        y = fusedEpilogue(tape, n, tape.apply(linearFn, ins, null), xs);
        break;
      }
      case 'batchnorm2d':
        y = tape.apply(batchNormFn, [xs[0], p(n, 'weight'), p(n, 'bias')], {
          eps: n.attrs.eps ?? 1e-5, momentum: n.attrs.momentum ?? 0.1,
          runningMean: store.buffer(n.params.running_mean), runningVar: store.buffer(n.params.running_var),
        });
        break;
      case 'relu': y = tape.apply(clampFn, xs, RELU); break;
      case 'relu6': y = tape.apply(clampFn, xs, RELU6); break;
      case 'add': y = tape.apply(addFn, xs, null); break;
      case 'concat': y = tape.apply(concatFn, xs, null); break;
      case 'avgpool2d': y = tape.apply(avgPoolFn, xs, n.attrs.pool!); break;
      case 'maxpool2d': y = tape.apply(maxPoolFn, xs, n.attrs.pool!); break;
      case 'global_avgpool': y = tape.apply(globalAvgPoolFn, xs, null); break;
      case 'flatten': case 'reshape': y = tape.apply(reshapeFn, xs, { shape: [batch, ...n.shape] }); break;
      default: throw new Error(`graph ${graph.name}: op ${n.op} cannot run (node ${n.id})`);
    }
    if (opts.hook) y = opts.hook(n, y, tape);
    values.set(n.id, y);
    if (opts.keep?.(n)) kept.set(n.id, y);
  }
  return { output: get(graph.output), values: kept };
}
