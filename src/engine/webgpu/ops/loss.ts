/**
 * Softmax cross-entropy (shaders/loss.wgsl): a row-parallel softmax writing probs and per-row
 * losses, then a one-workgroup mean. Labels are float class indices; an invalid label cannot throw
 * on the GPU and yields a NaN loss instead.
 */
import code from '../../../../shaders/loss.wgsl';
import { f32, grid1d, u32, type GpuContext, type GpuTensor } from '../gpu-context.ts';

const KEY = 'loss';

function dims(logits: GpuTensor, labels: GpuTensor, op: string): [number, number] {
  if (logits.shape.length !== 2) throw new Error(`${op}: expected logits [N, K], got [${logits.shape}]`);
  const [N, K] = logits.shape;
  if (N === 0 || K === 0) throw new Error(`${op}: empty logits [${logits.shape}]`);
  if (labels.size !== N) throw new Error(`${op}: ${labels.size} labels for ${N} rows`);
  return [N, K];
}

/** Returns [mean loss [1], probs [N, K]]. */
export function softmaxCrossEntropy(ctx: GpuContext, logits: GpuTensor, labels: GpuTensor): [GpuTensor, GpuTensor] {
  const [N, K] = dims(logits, labels, 'softmaxCrossEntropy');
  const probs = ctx.empty([N, K]);
  const rowLoss = ctx.empty([N]);
  const loss = ctx.empty([1]);
  ctx.run({
    key: KEY, code, entry: 'softmax_rows', inputs: [logits, labels], outputs: [probs, rowLoss],
    params: [u32(N), u32(N), u32(K), f32(0)], workgroups: grid1d(N),
  });
  ctx.run({
    key: KEY, code, entry: 'mean_loss', inputs: [rowLoss], outputs: [loss],
    params: [u32(1), u32(N), u32(K), f32(0)], workgroups: [1],
  });
  ctx.release(rowLoss); // reused only by later commands
  return [loss, probs];
}

/** dlogits = (probs - onehot(labels)) * gradScale. */
export function softmaxCrossEntropyBackward(ctx: GpuContext, probs: GpuTensor, labels: GpuTensor, gradScale: number): GpuTensor {
  const [N, K] = dims(probs, labels, 'softmaxCrossEntropyBackward');
  const d = ctx.empty([N, K]);
  ctx.run({
    key: KEY, code, entry: 'xent_backward', inputs: [probs, labels], outputs: [d],
    params: [u32(N * K), u32(N), u32(K), f32(gradScale)], workgroups: grid1d(N * K),
  });
  return d;
}
