/** Relu, and Clip (ReLU (0, inf), ReLU6 (0, 6) or any bounds) with bounds as inputs (opset 11+) or attributes. */
import type { OpType } from '../../graph/ir.ts';
import type { ImportContext, NodeIO } from '../../io/onnx/import/context.ts';
import { F32_MAX } from './onnx-lut.ts';

/** Relu → relu (a squeezed [C] value stays squeezed). */
export function importRelu(im: ImportContext, { inputs, base, set }: NodeIO): void {
  const x = im.tensor(inputs[0]);
  const id = im.uniqueId(base);
  im.addNode(id, 'relu', [x.id], x.squeezed ? [x.shape[0]] : [...x.shape]);
  set({ ...x, id });
}

/** Clip(0, 6) → relu6, Clip(0, inf) → relu, any other bounds → clip. */
export function importClip(im: ImportContext, { n, inputs, base, set }: NodeIO): void {
  let lo = -Infinity, hi = Infinity;
  if (im.opset >= 11) {
    if (inputs[1]) lo = im.scalar(inputs[1], 'min');
    if (inputs[2]) hi = im.scalar(inputs[2], 'max');
  } else {
    lo = im.attrFloat(n, 'min', -Infinity);
    hi = im.attrFloat(n, 'max', Infinity);
  }
  // Tolerate attribute-style bounds too (some hand-written files use them at any opset).
  if (!inputs[1] && im.attr(n, 'min')) lo = im.attrFloat(n, 'min', lo);
  if (!inputs[2] && im.attr(n, 'max')) hi = im.attrFloat(n, 'max', hi);
  if (Number.isNaN(lo) || Number.isNaN(hi)) im.fail(`Clip bounds must be numbers, got min ${lo}, max ${hi}`);
  if (lo > hi) im.fail(`Clip min ${lo} is greater than its max ${hi}`);
  // ReLU and ReLU6 keep their own ops (they fuse into a conv); any other bounds are the clip op.
  const act: OpType = lo === 0 && hi === 6 ? 'relu6' : lo === 0 && hi === Infinity ? 'relu' : 'clip';
  const x = im.tensor(inputs[0]);
  const id = im.uniqueId(base);
  const bound = (v: number) => Math.max(-F32_MAX, Math.min(F32_MAX, v));
  const attrs = act === 'clip' ? { actParams: { alpha: bound(lo), beta: bound(hi) } } : {};
  im.addNode(id, act, [x.id], x.squeezed ? [x.shape[0]] : [...x.shape], attrs);
  set({ ...x, id });
}
