/**
 * Learned constants read from ONNX (src/ops/shape/constant.ts): Expand of a float constant to the batch (a class
 * token), and the constant operand of a Concat or of an Add that no bias takes (a position table), each a
 * `constant` node with its per-sample value. The Expand target's shape subgraph (Shape / Gather / ConstantOfShape /
 * Where of the batch size) has been folded by then (src/io/onnx/import/fold.ts).
 */
import type { ImportContext, NodeIO } from '../../io/onnx/import/context.ts';
import { prod, type ConstVal, type TensorVal } from '../../io/onnx/import/values.ts';

/** A `constant` node holding `data` of per-sample shape `shape`. */
export function constantNode(im: ImportContext, base: string, data: Float32Array, shape: number[]): TensorVal {
  const id = im.uniqueId(`${base}/constant`);
  const value = im.addParam(`${id}.value`, Float32Array.from(data), [...shape], 'zeros');
  im.addNode(id, 'constant', [], [...shape], {}, { value });
  return { kind: 'tensor', id, shape: [...shape] };
}

/** `src` of shape `from` broadcast (numpy rules, aligned right) to `to`; null when it does not broadcast. */
export function broadcastTo(src: Float32Array, from: number[], to: number[]): Float32Array | null {
  if (from.length > to.length) return null;
  const f = [...new Array<number>(to.length - from.length).fill(1), ...from];
  if (f.some((d, i) => d !== 1 && d !== to[i])) return null;
  const out = new Float32Array(prod(to));
  const strides = f.map((_, i) => prod(f.slice(i + 1)));
  for (let o = 0; o < out.length; o++) {
    let r = o, at = 0;
    for (let k = to.length - 1; k >= 0; k--) {
      const q = r % to[k];
      r = (r - q) / to[k];
      if (f[k] !== 1) at += q * strides[k];
    }
    out[o] = src[at];
  }
  return out;
}

/**
 * A float constant operand of a per-sample shape `shape` (its leading 1 over the batch dropped, broadcast to
 * `shape`), as a `constant` node.
 */
export function constantOperand(im: ImportContext, base: string, c: ConstVal, shape: number[], what: string): TensorVal {
  const data = im.floats(c, what);
  let dims = c.dims;
  if (dims.length === shape.length + 1) {
    if (dims[0] !== 1) im.fail(`${what} [${dims}] has ${dims[0]} rows over the batch; only 1 (the same for every sample) is supported`);
    dims = dims.slice(1);
  }
  const b = broadcastTo(data, dims, shape);
  if (!b) im.fail(`${what} [${c.dims}] does not broadcast to the per-sample shape [${shape}]`);
  return constantNode(im, base, b, shape);
}

/** Expand: a float constant repeated over the batch (a class token) → constant; of a tensor, only a no-op. */
export function importExpand(im: ImportContext, { inputs, base, set, alias }: NodeIO): void {
  const x = im.val(inputs[0]);
  const target = im.constant(inputs[1], 'Expand shape');
  if (target.data instanceof Float32Array) im.fail('Expand shape must be an integer tensor');
  const t = target.data, batch = target.batch ?? [];
  if (x.kind === 'tensor') {
    // Expand to the value's own shape (the batch from a Shape of it): nothing to do
    const full = [1, ...x.shape];
    const pad = full.length - t.length;
    if (pad >= 0 && t.every((d, i) => (i + pad === 0 ? batch[i] || d === 1 : d === 1 || d === full[i + pad]))) return alias(inputs[0]);
    return im.fail(`Expand of a computed tensor [N, ${x.shape}] to [${t.map((d, i) => (batch[i] ? 'N' : d))}] is not supported (only a constant repeated over the batch)`);
  }
  if (!batch[0] || batch.slice(1).some(Boolean)) {
    im.fail(`Expand of a constant to [${t}] is not supported (only to the batch size first: a learned constant repeated over the batch)`);
  }
  const rank = Math.max(x.dims.length, t.length);
  const xd = [...new Array<number>(rank - x.dims.length).fill(1), ...x.dims];
  if (xd[0] !== 1) im.fail(`Expand of a constant [${x.dims}] with ${xd[0]} rows to the batch size`);
  const td = [...new Array<number>(rank - t.length).fill(1), ...t];
  const shape = xd.slice(1).map((d, i) => (td[i + 1] === 1 ? d : td[i + 1]));
  if (!shape.length) im.fail('Expand of a constant to [N] (one value per sample) is not supported');
  set(constantOperand(im, base, { ...x, dims: xd }, shape, 'the expanded constant'));
}
