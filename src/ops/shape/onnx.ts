/** Value-moving ops: Constant, Identity, Dropout (removed), Flatten, Reshape with a constant shape, Concat on channels. */
import { DataType, int64 } from '../../io/onnx/proto-types.ts';
import { prod } from '../../io/onnx/import/values.ts';
import type { ImportContext, NodeIO } from '../../io/onnx/import/context.ts';
import { constantOperand } from './onnx-constant.ts';

/** Constant → a constant value (a tensor attribute decoded when first read). */
export function importConstant(im: ImportContext, { n, out, set }: NodeIO): void {
  const a = (n.attribute ?? [])[0];
  if (!a || (n.attribute ?? []).length !== 1) im.fail('Constant needs exactly one value attribute');
  switch (a.name) {
    case 'value': if (!a.t) im.fail('Constant value has no tensor'); im.vals.set(out, { kind: 'lazy', t: a.t, what: `Constant "${out}"` }); return;
    case 'value_float': set({ kind: 'const', dims: [], data: Float32Array.of(a.f ?? 0), dataType: DataType.FLOAT }); return;
    case 'value_floats': set({ kind: 'const', dims: [a.floats?.length ?? 0], data: Float32Array.from(a.floats ?? []), dataType: DataType.FLOAT }); return;
    case 'value_int': set({ kind: 'const', dims: [], data: [int64(a.i)], dataType: DataType.INT64 }); return;
    case 'value_ints': set({ kind: 'const', dims: [a.ints?.length ?? 0], data: (a.ints ?? []).map((x) => int64(x)), dataType: DataType.INT64 }); return;
    default: im.fail(`Constant with attribute ${a.name} is not supported`);
  }
}

/** Identity: another name for its input. */
export function importIdentity(im: ImportContext, { inputs, alias }: NodeIO): void {
  alias(inputs[0]);
}

/** Dropout (inference): removed; its mask must be unused. */
export function importDropout(im: ImportContext, { n, inputs, alias }: NodeIO): void {
  im.onlyFirstOutput(n, 'the dropout mask');
  if (inputs[2]) {
    const tm = im.constant(inputs[2], 'training_mode');
    if (tm.data.length !== 1 || Number(tm.data[0]) !== 0) im.fail('Dropout in training mode is not supported');
  }
  alias(inputs[0]);
}

/** Flatten (axis 1) → flatten. */
export function importFlatten(im: ImportContext, { n, inputs, base, set }: NodeIO): void {
  const x = im.tensor(inputs[0]);
  const rank = x.shape.length + 1;
  let axis = im.attrInt(n, 'axis', 1);
  if (axis < 0) axis += rank;
  if (axis !== 1) im.fail(`Flatten with axis ${axis} is not supported (only axis 1, which keeps the batch)`);
  const f = prod(x.shape);
  const id = im.uniqueId(base);
  im.addNode(id, 'flatten', [x.id], [f]);
  set({ kind: 'tensor', id, shape: [f] });
}

/**
 * Reshape to a constant shape that keeps the batch → flatten or reshape. A reshape of a reshape reshapes the
 * original value (so ShuffleNet's view / transpose / view leaves one channel_shuffle), and a reshape to the
 * value's own shape is none.
 */
export function importReshape(im: ImportContext, { n, inputs, base, set, alias }: NodeIO): void {
  const x = im.tensor(inputs[0]);
  const c = im.constant(inputs[1], 'shape');
  if (c.data instanceof Float32Array) im.fail('Reshape shape must be an integer tensor');
  const target = c.data;
  const allowzero = im.attrInt(n, 'allowzero', 0);
  const shape = reshapeTarget(im, x.shape, target, allowzero !== 0, c.batch);
  const same = (a: readonly number[], b: readonly number[]) => a.length === b.length && a.every((d, i) => d === b[i]);
  if (same(shape, x.shape)) return alias(inputs[0]);
  const prev = x.squeezed ? undefined : im.node(x.id);
  const srcId = prev && (prev.op === 'reshape' || prev.op === 'flatten') ? prev.inputs[0] : x.id;
  const src = im.node(srcId);
  if (srcId !== x.id && src && same(shape, src.shape)) return set({ kind: 'tensor', id: srcId, shape });
  const id = im.uniqueId(base);
  im.addNode(id, shape.length === 1 ? 'flatten' : 'reshape', [srcId], shape, shape.length === 1 ? {} : { shape: [...shape] });
  set({ kind: 'tensor', id, shape });
}

/**
 * Concat on axis 1 → concat: the channels of NCHW tensors, or the tokens of [N, T, D] tensors (a class token before
 * the patch tokens). A constant input (one row over the batch) becomes a learned `constant` node.
 */
export function importConcat(im: ImportContext, { n, inputs, base, set }: NodeIO): void {
  if (!inputs.length) im.fail('Concat has no inputs');
  const vals = inputs.map((i) => im.val(i));
  const first = vals.find((v) => v.kind === 'tensor');
  if (!first || first.kind !== 'tensor') return im.fail('Concat of constants only is not supported');
  let axis = im.attrInt(n, 'axis', 1);
  const rank = first.shape.length + 1;
  if (axis < 0) axis += rank;
  if (!((rank === 4 || rank === 3) && axis === 1)) im.fail(`Concat on axis ${axis} of rank-${rank} tensors is not supported (only axis 1: NCHW channels or [N, T, D] tokens)`);
  const what = rank === 4 ? 'spatial size' : 'feature size';
  const xs = vals.map((v, k) => {
    if (v.kind === 'tensor') return im.tensor(inputs[k]);
    if (v.dims.length !== rank) im.fail(`Concat of a constant [${v.dims}] with rank-${rank} tensors`);
    return constantOperand(im, `${base}_${k}`, v, v.dims.slice(1), `the concatenated constant "${inputs[k]}"`);
  });
  for (const v of xs) {
    if (v.shape.length !== rank - 1 || v.shape.slice(1).some((d, i) => d !== first.shape[i + 1])) {
      im.fail(`Concat inputs [${xs.map((q) => `[${q.shape}]`).join(', ')}] differ in ${what}`);
    }
  }
  const ids = xs.map((v) => im.materialize(v, base));
  const shape = [xs.reduce((s, v) => s + v.shape[0], 0), ...first.shape.slice(1)];
  const id = im.uniqueId(base);
  im.addNode(id, 'concat', ids, shape);
  set({ kind: 'tensor', id, shape });
}

/** Squeeze of per-sample axes of size 1 (a class-token readout x[:, 0:1] squeezed) → reshape / flatten. */
export function importSqueeze(im: ImportContext, { n, inputs, base, set, alias }: NodeIO): void {
  const x = im.tensor(inputs[0]);
  const rank = x.shape.length + 1;
  const given = im.opset >= 13 ? (inputs[1] ? im.ints(im.constant(inputs[1], 'axes'), 'axes') : undefined) : im.attrInts(n, 'axes');
  const at = new Set((given ?? x.shape.flatMap((d, i) => (d === 1 ? [i + 1] : []))).map((a) => (a < 0 ? a + rank : a)));
  for (const a of at) {
    if (a === 0) im.fail('Squeeze of the batch axis is not supported');
    if (!(a > 0 && a < rank) || x.shape[a - 1] !== 1) im.fail(`Squeeze of axis ${a} of [N, ${x.shape}]: only axes of size 1`);
  }
  const shape = x.shape.filter((_, i) => !at.has(i + 1));
  if (!shape.length) im.fail('Squeeze to one value per sample is not supported');
  if (!at.size) return alias(inputs[0]);
  const id = im.uniqueId(base);
  im.addNode(id, shape.length === 1 ? 'flatten' : 'reshape', [im.materialize(x, base)], shape, shape.length === 1 ? {} : { shape: [...shape] });
  set({ kind: 'tensor', id, shape });
}

/** The per-sample shape of a Reshape to `target` (0 copies, -1 infers), checked to keep the batch first. */
export function reshapeTarget(im: ImportContext, inShape: number[], target: number[], allowzero: boolean, batch?: boolean[]): number[] {
  const full = [-2, ...inShape]; // -2 stands for the batch
  const per = prod(inShape);
  if (!target.length) im.fail('Reshape to a scalar is not supported');
  if (target.some((t, i) => !batch?.[i] && (!Number.isSafeInteger(t) || t < -1))) im.fail(`invalid Reshape shape [${target}]`);
  // an element taken from a Shape's batch size (folded at import) keeps the batch
  // (so is a leading 1 in a model exported with a fixed batch of 1, whose exporter folded the batch into the target)
  const dims = target.map((t, i) => (batch?.[i] || (i === 0 && t === 1 && im.staticBatchOne) ? -2 : t === 0 && !allowzero ? (i < full.length ? full[i] : im.fail(`shape [${target}]: 0 at ${i} copies no input dimension`)) : t));
  const keepsBatch = dims[0] === -2 || (dims[0] === -1 && !dims.slice(1).includes(-1));
  if (!keepsBatch) im.fail(`Reshape to [${target}] does not keep the batch dimension first (export with x.flatten(1) or a dynamic batch)`);
  const rest = dims.slice(1);
  if (rest.includes(-2)) im.fail(`Reshape to [${target}] moves the batch dimension`);
  const negs = rest.filter((d) => d === -1).length;
  if (negs > 1) im.fail(`Reshape to [${target}] has more than one -1`);
  const known = prod(rest.filter((d) => d !== -1));
  if (negs) {
    if (known === 0 || per % known) im.fail(`Reshape of ${per} values per sample to [${target}] does not divide`);
    rest[rest.indexOf(-1)] = per / known;
  } else if (known !== per) {
    im.fail(`Reshape of ${per} values per sample to [${target}] changes the element count`);
  }
  if (!rest.length) im.fail('Reshape to [N] (one value per sample) is not supported');
  return rest;
}
