/**
 * Python source helpers for the ops' PyTorch export parts (OpDef.torch, src/ops): literals and the two common
 * shapes of a part (a module built in __init__ and called on the first input).
 */
import type { GraphNode } from '../../graph/ir.ts';
import type { TorchCtx, TorchExport } from '../../ops/types.ts';

/** A Python float literal (open clip bounds are stored as ±f32 max: written as infinities). */
export const pyFloat = (v: number): string => (Math.abs(v) >= 3e38 ? (v < 0 ? "-float('inf')" : "float('inf')") : String(v));

export const pyPair = (a: number, b: number): string => `(${a}, ${b})`;

/** `self.<m>(x)`: the node's module applied to its first input. */
export const callModule = (_n: GraphNode, c: TorchCtx): string => `self.${c.m}(${c.xs[0]})`;

/** An op exported as one module built by `ctor` (a Python expression) and called on its first input. */
export function torchModule(ctor: (n: GraphNode, c: TorchCtx) => string): TorchExport {
  return { module: (n, c) => [`self.${c.m} = ${ctor(n, c)}`], call: callModule };
}

/**
 * An op written as plain tensor arithmetic in forward. `site`: it has an activation fake quant, which needs a module
 * to hang on (`self.<m>.activation_post_process`): an nn.Identity holds it.
 */
export function torchExpr(call: (n: GraphNode, c: TorchCtx) => string, site: boolean): TorchExport {
  return { module: (_n, c) => (site ? [`self.${c.m} = nn.Identity()`] : []), call };
}
