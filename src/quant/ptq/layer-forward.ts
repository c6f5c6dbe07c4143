/**
 * One conv / linear node of a fused graph on a tape, from given input values and weight: the layer whose output
 * AdaRound reconstructs (the conv / linear, its bias, a fused add input and a fused activation, through the op's own
 * forward and the executor's epilogue; no output fake quant, so the reconstruction error stays smooth).
 */
import type { Tape, Var } from '../../engine/autograd.ts';
import type { GraphNode } from '../../graph/ir.ts';
import { fusedEpilogue } from '../../nn/executor.ts';
import { opDef } from '../../ops/registry.ts';
import type { ForwardCtx } from '../../ops/types.ts';

export function layerForward(tape: Tape, n: GraphNode, x: Var, weight: Var, bias: Var | null, addInput: Var | null): Var {
  const d = opDef(n.op);
  const wRole = d.quant.weight?.role;
  if (!wRole) throw new Error(`AdaRound: node ${n.id} is a ${n.op}, a layer without weights`);
  if (n.attrs.addInput && !addInput) throw new Error(`AdaRound: node ${n.id} needs its add input`);
  if (!!n.params.bias !== !!bias) throw new Error(`AdaRound: node ${n.id} ${bias ? 'has no bias' : 'needs its bias'}`);
  const xs = n.attrs.addInput && addInput ? [x, addInput] : [x];
  const c: ForwardCtx = {
    param: (role) => {
      if (role === wRole) return weight;
      if (role === 'bias' && bias) return bias;
      throw new Error(`AdaRound: node ${n.id} reads its ${role}, which the layer reconstruction does not hold`);
    },
    buffer: (role) => { throw new Error(`AdaRound: node ${n.id} reads the buffer ${role}`); },
    input: x,
    batch: x.shape[0],
    epilogue: (y) => fusedEpilogue(tape, n, y, xs, c),
  };
  return d.forward(tape, n, xs, c);
}
