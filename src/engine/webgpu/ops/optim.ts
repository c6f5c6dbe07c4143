/**
 * Optimizer steps (shaders/optim.wgsl), updating parameters and state in place: PyTorch's SGD
 * (momentum, dampening, weight decay, Nesterov) and Adam / AdamW with bias correction. Scalars
 * derived from the hyper-parameters (1 - dampening, Adam's bias corrections, AdamW's decay factor)
 * are computed on the host in float64 and passed as uniforms.
 */
import code from '../../../../shaders/optim.wgsl';
import type { AdamParams, SgdParams } from '../../backend.ts';
import { f32, grid1d, u32, type GpuContext, type GpuTensor, type ParamValue } from '../gpu-context.ts';

const KEY = 'optim';

function sameSize(op: string, param: GpuTensor, named: Record<string, GpuTensor>): void {
  for (const [name, t] of Object.entries(named)) {
    if (t.size !== param.size) throw new Error(`${op}: ${name} [${t.shape}] does not match param [${param.shape}]`);
  }
}

interface Fields {
  lr: number; wd: number; a: number; b: number; omb1?: number; omb2?: number; eps?: number; decay?: number;
  bc1?: number; bc2?: number; flags: number;
}

function params(n: number, f: Fields): ParamValue[] {
  return [
    u32(n), f32(f.lr), f32(f.wd), f32(f.a), f32(f.b), f32(f.omb1 ?? 0), f32(f.omb2 ?? 0), f32(f.eps ?? 0),
    f32(f.decay ?? 1), f32(f.bc1 ?? 1), f32(f.bc2 ?? 1), u32(f.flags),
  ];
}

/** PyTorch SGD; momentumBuf is null (and unused) when momentum == 0. */
export function sgdStep(
  ctx: GpuContext, param: GpuTensor, grad: GpuTensor, momentumBuf: GpuTensor | null, p: SgdParams, firstStep: boolean,
): void {
  sameSize('sgdStep', param, { grad });
  const prm = params(param.size, {
    lr: p.lr, wd: p.weightDecay, a: p.momentum, b: 1 - p.dampening,
    flags: (p.nesterov ? 1 : 0) | (firstStep ? 2 : 0),
  });
  if (p.momentum === 0) {
    ctx.run({ key: KEY, code, entry: 'sgd', inputs: [grad], outputs: [param], params: prm, workgroups: grid1d(param.size) });
    return;
  }
  if (!momentumBuf) throw new Error('sgdStep: momentum != 0 needs a momentum buffer');
  sameSize('sgdStep', param, { momentumBuf });
  ctx.run({
    key: KEY, code, entry: 'sgd_momentum', inputs: [grad], outputs: [param, momentumBuf],
    params: prm, workgroups: grid1d(param.size),
  });
}

/** PyTorch Adam (decoupled = false, L2 in the gradient) or AdamW (decoupled = true). */
export function adamStep(ctx: GpuContext, param: GpuTensor, grad: GpuTensor, m: GpuTensor, v: GpuTensor, p: AdamParams): void {
  sameSize('adamStep', param, { grad, m, v });
  if (!(Number.isInteger(p.step) && p.step >= 1)) throw new Error(`adamStep: step must be a 1-based integer, got ${p.step}`);
  const prm = params(param.size, {
    lr: p.lr, wd: p.weightDecay, a: p.beta1, b: p.beta2, omb1: 1 - p.beta1, omb2: 1 - p.beta2, eps: p.eps,
    decay: 1 - p.lr * p.weightDecay, bc1: 1 - Math.pow(p.beta1, p.step), bc2: 1 - Math.pow(p.beta2, p.step),
    flags: p.decoupled ? 1 : 0,
  });
  ctx.run({ key: KEY, code, entry: 'adam', inputs: [grad], outputs: [param, m, v], params: prm, workgroups: grid1d(param.size) });
}
