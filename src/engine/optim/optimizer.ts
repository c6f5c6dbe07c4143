/**
 * Optimizers over ParamStore variables, with PyTorch semantics (the kernels live in the backend:
 * sgdStepInPlace / adamStepInPlace). The learning rate (and Adam's beta1 / SGD's momentum, which
 * one-cycle schedules cycle) are set per step by the schedule.
 */
import type { Backend, BTensor } from '../backend.ts';
import type { Var } from '../autograd.ts';

export type OptimizerName = 'sgd' | 'adam' | 'adamw';

export interface OptimizerConfig {
  name: OptimizerName;
  lr: number;
  momentum?: number;
  weightDecay?: number;
  nesterov?: boolean;
  beta1?: number;
  beta2?: number;
  eps?: number;
}

export class Optimizer {
  lr: number;
  /** SGD momentum or Adam beta1 (cycled by one-cycle schedules). */
  momentum: number;
  private state = new Map<Var, BTensor[]>();
  private steps = 0;

  constructor(readonly be: Backend, readonly params: Var[], readonly cfg: OptimizerConfig) {
    this.lr = cfg.lr;
    this.momentum = cfg.name === 'sgd' ? (cfg.momentum ?? 0) : (cfg.beta1 ?? 0.9);
  }

  get stepCount(): number {
    return this.steps;
  }

  step(): void {
    this.steps++;
    const c = this.cfg;
    for (const v of this.params) {
      if (!v.grad) continue;
      let st = this.state.get(v);
      const first = !st;
      if (!st) {
        st = c.name === 'sgd'
          ? (this.momentum !== 0 ? [this.be.zeros(v.shape)] : [])
          : [this.be.zeros(v.shape), this.be.zeros(v.shape)];
        this.state.set(v, st);
      }
      if (c.name === 'sgd') {
        this.be.sgdStepInPlace(v.value, v.grad, st[0] ?? null, {
          lr: this.lr, momentum: this.momentum, dampening: 0, weightDecay: c.weightDecay ?? 0, nesterov: c.nesterov ?? false,
        }, first);
      } else {
        this.be.adamStepInPlace(v.value, v.grad, st[0], st[1], {
          lr: this.lr, beta1: this.momentum, beta2: c.beta2 ?? 0.999, eps: c.eps ?? 1e-8,
          weightDecay: c.weightDecay ?? (c.name === 'adamw' ? 0.01 : 0), decoupled: c.name === 'adamw', step: this.steps,
        });
      }
    }
  }

  dispose(): void {
    for (const st of this.state.values()) for (const t of st) this.be.release(t);
    this.state.clear();
  }
}
