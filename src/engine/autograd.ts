/**
 * A small tape-based autograd. A `Var` holds a backend tensor; `apply` runs a `Fn`'s forward and,
 * when the tape records, remembers what its backward needs. `Tape.backward` walks the tape in
 * reverse, accumulating gradients; parameters keep theirs in `Var.grad` for the optimizer.
 *
 * Ownership (no GPU buffer may leak): every tensor a tape creates (outputs, saved tensors,
 * intermediate gradients) is released by the tape, at the latest in `dispose()`. Parameters and
 * their gradients belong to the caller (see ParamStore).
 */
import type { Backend, BTensor } from './backend.ts';

export class Var {
  grad: BTensor | null = null;
  /** The tape node that produced this value (null for inputs and parameters). */
  node: TapeNode | null = null;
  constructor(public value: BTensor, readonly requiresGrad = false, readonly name = '') {}
  get shape() {
    return this.value.shape;
  }
}

export interface FnContext<A> {
  inputs: readonly BTensor[];
  output: BTensor;
  saved: readonly BTensor[];
  attrs: A;
  /** needsGrad[i]: whether input i wants a gradient (skip computing it otherwise). */
  needsGrad: readonly boolean[];
}

/** A differentiable function: forward plus backward, written once over the Backend interface. */
export interface Fn<A> {
  name: string;
  /** `save` keeps an extra tensor for the backward; the tape releases it. */
  forward(be: Backend, inputs: readonly BTensor[], attrs: A, save: (t: BTensor) => void, training: boolean): BTensor;
  backward(be: Backend, gy: BTensor, ctx: FnContext<A>): (BTensor | null)[];
}

export interface TapeNode {
  fn: Fn<unknown>;
  attrs: unknown;
  inputs: readonly Var[];
  output: Var;
  saved: BTensor[];
}

export class Tape {
  private nodes: TapeNode[] = [];
  private owned: BTensor[] = [];
  private savedAll: BTensor[] = [];
  private disposed = false;

  /**
   * @param record whether to remember nodes for backward (false = no-grad evaluation)
   * @param training passed to functions (batch norm uses batch statistics when true)
   */
  constructor(readonly be: Backend, readonly record = true, readonly training = true) {}

  /** A tensor this tape owns and releases (e.g. an uploaded batch). */
  own(t: BTensor): BTensor {
    this.owned.push(t);
    return t;
  }

  input(data: Float32Array, shape: readonly number[]): Var {
    return new Var(this.own(this.be.upload(data, shape)));
  }

  apply<A>(fn: Fn<A>, inputs: readonly Var[], attrs: A): Var {
    if (this.disposed) throw new Error('tape already disposed');
    const saved: BTensor[] = [];
    const out = fn.forward(this.be, inputs.map((v) => v.value), attrs, (t) => saved.push(t), this.training);
    this.owned.push(out);
    this.savedAll.push(...saved);
    const needs = this.record && inputs.some((v) => v.requiresGrad || v.node !== null);
    const result = new Var(out, needs);
    if (needs) {
      const node: TapeNode = { fn: fn as Fn<unknown>, attrs, inputs, output: result, saved };
      result.node = node;
      this.nodes.push(node);
    }
    return result;
  }

  /**
   * Back-propagates from `root` with seed gradient `seed` (e.g. ones for a scalar loss). Gradients
   * of parameters (Vars with requiresGrad and no node) are accumulated into `Var.grad`.
   */
  backward(root: Var, seed: BTensor): void {
    if (!this.record) throw new Error('backward on a no-grad tape');
    const grads = new Map<Var, BTensor>();
    grads.set(root, seed);
    const accumulate = (v: Var, g: BTensor) => {
      if (!v.requiresGrad && v.node === null) {
        this.be.release(g);
        return;
      }
      if (v.node === null) {
        // A leaf (parameter): the gradient leaves the tape and belongs to the caller.
        if (v.grad) {
          const sum = this.be.add(v.grad, g);
          this.be.release(v.grad);
          this.be.release(g);
          v.grad = sum;
        } else v.grad = g;
        return;
      }
      const prev = grads.get(v);
      if (prev) {
        grads.set(v, this.be.add(prev, g));
        this.be.release(prev);
        this.be.release(g);
      } else grads.set(v, g);
    };
    for (let i = this.nodes.length - 1; i >= 0; i--) {
      const node = this.nodes[i];
      const gy = grads.get(node.output);
      if (!gy) continue;
      grads.delete(node.output);
      const needsGrad = node.inputs.map((v) => v.requiresGrad || v.node !== null);
      const gxs = node.fn.backward(this.be, gy, {
        inputs: node.inputs.map((v) => v.value), output: node.output.value, saved: node.saved,
        attrs: node.attrs, needsGrad,
      });
      if (gy !== seed) this.be.release(gy);
      gxs.forEach((gx, k) => {
        if (!gx) return;
        if (!needsGrad[k]) this.be.release(gx);
        else accumulate(node.inputs[k], gx);
      });
    }
    // Whatever was not consumed (e.g. gradients of unused branches) is released here.
    for (const [v, g] of grads) if (g !== seed || v !== root) this.be.release(g);
  }

  dispose(): void {
    if (this.disposed) return;
    this.disposed = true;
    for (const t of this.owned) this.be.release(t);
    for (const t of this.savedAll) this.be.release(t);
    this.owned = [];
    this.savedAll = [];
    this.nodes = [];
  }
}
