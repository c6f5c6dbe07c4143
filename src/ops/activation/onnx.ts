/** Relu, and Clip as ReLU (0, inf) or ReLU6 (0, 6) with bounds as inputs (opset 11+) or attributes. */
import type { OpType } from '../../graph/ir.ts';
import type { ImportContext, NodeIO } from '../../io/onnx/import/context.ts';

/** Relu → relu (a squeezed [C] value stays squeezed). */
export function importRelu(im: ImportContext, { inputs, base, set }: NodeIO): void {
  const x = im.tensor(inputs[0]);
  const id = im.uniqueId(base);
  im.addNode(id, 'relu', [x.id], x.squeezed ? [x.shape[0]] : [...x.shape]);
  set({ ...x, id });
}

/** Clip(0, 6) → relu6, Clip(0, inf) → relu; other bounds are refused. */
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
  let act: OpType;
  if (lo === 0 && hi === 6) act = 'relu6';
  else if (lo === 0 && hi === Infinity) act = 'relu';
  else im.fail(`Clip(${lo}, ${hi}) is not supported: only ReLU (0, inf) and ReLU6 (0, 6)`);
  const x = im.tensor(inputs[0]);
  const id = im.uniqueId(base);
  im.addNode(id, act, [x.id], x.squeezed ? [x.shape[0]] : [...x.shape]);
  set({ ...x, id });
}
