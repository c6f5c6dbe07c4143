/**
 * One conv / ConvTranspose / linear node of a fused graph on a tape, from given input values and weight: the layer whose output
 * AdaRound reconstructs (the conv / linear, its bias, a fused add input and a fused ReLU / ReLU6, as the executor
 * runs them; no output fake quant, so the reconstruction error stays smooth).
 */
import type { Tape, Var } from '../../engine/autograd.ts';
import { addFn, clampFn, RELU, RELU6 } from '../../engine/fns/activation.ts';
import { conv2dFn } from '../../engine/fns/conv.ts';
import { convTranspose2dFn } from '../../engine/fns/conv-transpose.ts';
import { linearFn } from '../../engine/fns/dense.ts';
import type { GraphNode } from '../../graph/ir.ts';

export function layerForward(tape: Tape, n: GraphNode, x: Var, weight: Var, bias: Var | null, addInput: Var | null): Var {
  const ins = bias ? [x, weight, bias] : [x, weight];
  let y: Var;
  if (n.op === 'conv2d') y = tape.apply(conv2dFn, ins, n.attrs.conv!);
  else if (n.op === 'conv_transpose2d') y = tape.apply(convTranspose2dFn, ins, { conv: n.attrs.conv!, outH: n.shape[1], outW: n.shape[2] });
  else if (n.op === 'linear') y = tape.apply(linearFn, ins, null);
  else throw new Error(`AdaRound: node ${n.id} is a ${n.op}, not a conv2d, conv_transpose2d or linear`);
  if (n.attrs.addInput) {
    if (!addInput) throw new Error(`AdaRound: node ${n.id} needs its add input`);
    y = tape.apply(addFn, [y, addInput], null);
  }
  if (n.attrs.act === 'relu') y = tape.apply(clampFn, [y], RELU);
  else if (n.attrs.act === 'relu6') y = tape.apply(clampFn, [y], RELU6);
  return y;
}
