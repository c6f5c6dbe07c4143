/** Optimizer steps, in place, exactly as PyTorch's torch.optim.SGD / Adam / AdamW (no amsgrad, no maximize). */
import type { AdamParams, SgdParams } from '../backend.ts';
import { checkSize, type FloatArray } from './types.ts';

/**
 * g = grad + wd * param; with momentum: buf = g on the first step, else buf = momentum * buf +
 * (1 - dampening) * g; g = nesterov ? g + momentum * buf : buf. param -= lr * g.
 * momentumBuf is null (and unused) when momentum == 0.
 */
export function sgdStepInPlace(
  param: FloatArray, grad: FloatArray, momentumBuf: FloatArray | null, p: SgdParams, firstStep: boolean,
): void {
  const n = param.length;
  checkSize('sgd grad', grad, n);
  const { lr, momentum, dampening, weightDecay: wd, nesterov } = p;
  if (momentum !== 0) {
    if (!momentumBuf) throw new Error('sgd: momentum != 0 needs a momentum buffer');
    checkSize('sgd momentumBuf', momentumBuf, n);
  }
  for (let i = 0; i < n; i++) {
    let g = grad[i];
    if (wd !== 0) g += wd * param[i];
    if (momentum !== 0) {
      const buf = momentumBuf as FloatArray;
      buf[i] = firstStep ? g : momentum * buf[i] + (1 - dampening) * g;
      g = nesterov ? g + momentum * buf[i] : buf[i];
    }
    param[i] -= lr * g;
  }
}

/**
 * Adam (decoupled = false): g = grad + wd * param. AdamW (decoupled = true): param *= 1 - lr * wd.
 * Then m = b1 m + (1 - b1) g; v = b2 v + (1 - b2) g^2; mhat = m / (1 - b1^t); vhat = v / (1 - b2^t);
 * param -= lr * mhat / (sqrt(vhat) + eps), t = p.step (1-based).
 */
export function adamStepInPlace(param: FloatArray, grad: FloatArray, m: FloatArray, v: FloatArray, p: AdamParams): void {
  const n = param.length;
  checkSize('adam grad', grad, n);
  checkSize('adam m', m, n);
  checkSize('adam v', v, n);
  const { lr, beta1: b1, beta2: b2, eps, weightDecay: wd, decoupled, step } = p;
  if (!(Number.isInteger(step) && step >= 1)) throw new Error(`adam: step must be a 1-based integer, got ${step}`);
  const bc1 = 1 - Math.pow(b1, step), bc2 = 1 - Math.pow(b2, step);
  for (let i = 0; i < n; i++) {
    let g = grad[i];
    let w = param[i];
    if (wd !== 0) {
      if (decoupled) w *= 1 - lr * wd;
      else g += wd * w;
    }
    m[i] = b1 * m[i] + (1 - b1) * g;
    v[i] = b2 * v[i] + (1 - b2) * g * g;
    // Read back the stored (possibly float32-rounded) state, as PyTorch uses its stored tensors.
    param[i] = w - lr * (m[i] / bc1) / (Math.sqrt(v[i] / bc2) + eps);
  }
}
