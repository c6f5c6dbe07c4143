/**
 * ONNX Slice and Split on channels (torch.chunk / split) → slice nodes (one per Split output), and Transpose as
 * the middle of ShuffleNet's channel shuffle (Reshape [N, g, C/g, H, W] → Transpose [0, 2, 1, 3, 4] → Reshape
 * [N, C, H, W]) → channel_shuffle. Their shape inputs are constants by now (src/io/onnx/import/fold.ts).
 */
import type { ImportContext, NodeIO } from '../../io/onnx/import/context.ts';
import type { ConstVal, TensorVal } from '../../io/onnx/import/values.ts';
import type { NodeProto } from '../../io/onnx/proto-types.ts';

/** Batch-covering slices end at or beyond this (exporters write INT64_MAX or INT32_MAX). */
const TO_END = 2 ** 31 - 1;

function addSlice(im: ImportContext, x: TensorVal, base: string, start: number, end: number): TensorVal {
  const xid = im.materialize(x, base);
  const id = im.uniqueId(base);
  const shape = [end - start, ...x.shape.slice(1)];
  im.addNode(id, 'slice', [xid], shape, { slice: { start, end } });
  return { kind: 'tensor', id, shape };
}

/**
 * Slice's starts / ends / axes / steps: attributes before opset 10 (Slice-1, no steps), inputs from 10. `constant` reads
 * input i (the importer's constants, or the fold's already-read ones).
 */
export function sliceArgs(im: ImportContext, n: NodeProto, inputs: string[], constant: (i: number, what: string) => ConstVal) {
  let starts: number[], ends: number[], axes: number[], steps: number[];
  if (im.opset < 10) {
    if (inputs.length > 1) im.fail('Slice before opset 10 takes starts / ends / axes as attributes, not inputs');
    starts = im.attrInts(n, 'starts') ?? im.fail('Slice has no starts attribute');
    ends = im.attrInts(n, 'ends') ?? im.fail('Slice has no ends attribute');
    axes = im.attrInts(n, 'axes') ?? starts.map((_, i) => i);
    steps = starts.map(() => 1);
  } else {
    starts = im.ints(constant(1, 'starts'), 'starts');
    ends = im.ints(constant(2, 'ends'), 'ends');
    axes = inputs[3] ? im.ints(constant(3, 'axes'), 'axes') : starts.map((_, i) => i);
    steps = inputs[4] ? im.ints(constant(4, 'steps'), 'steps') : starts.map(() => 1);
  }
  if (ends.length !== starts.length || axes.length !== starts.length || steps.length !== starts.length) im.fail('Slice starts, ends, axes and steps differ in length');
  return { starts, ends, axes, steps };
}

/** Slice with constant starts / ends / axes / steps: channels only (other axes must be kept whole). */
export function importSlice(im: ImportContext, { n, inputs, base, set, alias }: NodeIO): void {
  const x = im.tensor(inputs[0]);
  const rank = x.shape.length + 1;
  const { starts, ends, axes, steps } = sliceArgs(im, n, inputs, (i, what) => im.constant(inputs[i], what));
  const C = x.shape[0];
  let lo = 0, hi = C;
  axes.forEach((a0, k) => {
    const a = a0 < 0 ? a0 + rank : a0;
    if (!(a >= 0 && a < rank)) im.fail(`Slice axis ${a0} is outside a rank-${rank} tensor`);
    if (steps[k] !== 1) im.fail(`Slice with step ${steps[k]} is not supported (only contiguous channel ranges)`);
    if (a === 0) {
      if (starts[k] !== 0 || ends[k] < TO_END) im.fail('Slice over the batch dimension is not supported');
      return;
    }
    const d = x.shape[a - 1];
    const c = (v: number) => Math.min(d, Math.max(0, v < 0 ? v + d : v));
    const s = c(starts[k]), e = c(ends[k]);
    if (a === 1) {
      lo = s;
      hi = e;
    } else if (s !== 0 || e !== d) {
      im.fail(`Slice on axis ${a} is not supported (only channels, axis 1)`);
    }
  });
  if (hi <= lo) im.fail(`Slice of channels [${lo}, ${hi}) is empty`);
  if (lo === 0 && hi === C) return alias(inputs[0]);
  set(addSlice(im, x, base, lo, hi));
}

/**
 * Gather of a computed tensor on axis 1 with constant indices (a ViT's class-token readout x[:, 0]): a run of
 * consecutive indices is a slice of channels / tokens; a scalar index also drops the axis (a reshape).
 */
export function importGather(im: ImportContext, { n, inputs, base, set }: NodeIO): void {
  const x = im.tensor(inputs[0]);
  const rank = x.shape.length + 1;
  let axis = im.attrInt(n, 'axis', 0);
  if (axis < 0) axis += rank;
  if (axis !== 1) im.fail(`Gather on axis ${axis} of a computed tensor is not supported (only axis 1: channels or tokens)`);
  const idx = im.constant(inputs[1], 'Gather indices');
  const d = x.shape[0];
  const ix = im.ints(idx, 'Gather indices').map((i) => (i < 0 ? i + d : i));
  if (!ix.length || ix.some((i) => !(Number.isInteger(i) && i >= 0 && i < d))) im.fail(`Gather indices [${idx.data}] outside [${-d}, ${d - 1}]`);
  if (idx.dims.length > 1 || ix.some((i, k) => i !== ix[0] + k)) im.fail(`Gather of indices [${idx.data}] is not supported (only one index or a run of consecutive ones)`);
  const s = ix.length === d ? x : addSlice(im, x, base, ix[0], ix[0] + ix.length);
  if (idx.dims.length === 1) return set(s);
  // a scalar index: the axis goes
  const shape = s.shape.slice(1);
  if (!shape.length) im.fail('Gather to one value per sample is not supported');
  const id = im.uniqueId(`${base}/squeeze`);
  im.addNode(id, shape.length === 1 ? 'flatten' : 'reshape', [s.id], shape, shape.length === 1 ? {} : { shape: [...shape] });
  set({ kind: 'tensor', id, shape });
}

/** Split on channels into several outputs (sizes from the `split` input or attribute, or equal parts). */
export function importSplit(im: ImportContext, { n, inputs, base }: NodeIO): void {
  const x = im.tensor(inputs[0]);
  const rank = x.shape.length + 1;
  let axis = im.attrInt(n, 'axis', 0);
  if (axis < 0) axis += rank;
  if (axis !== 1) im.fail(`Split on axis ${axis} is not supported (only channels, axis 1)`);
  const outs = n.output ?? [];
  const C = x.shape[0];
  const given = im.opset >= 13 ? (inputs[1] ? im.ints(im.constant(inputs[1], 'split'), 'split') : undefined) : im.attrInts(n, 'split');
  let sizes: number[];
  if (given) {
    sizes = given;
  } else {
    if (C % outs.length) im.fail(`Split of ${C} channels into ${outs.length} equal parts does not divide`);
    sizes = outs.map(() => C / outs.length);
  }
  if (sizes.length !== outs.length) im.fail(`Split has ${outs.length} outputs and ${sizes.length} sizes`);
  if (sizes.some((s) => !(Number.isInteger(s) && s > 0))) im.fail(`Split sizes [${sizes}] must be positive`);
  if (sizes.reduce((a, b) => a + b, 0) !== C) im.fail(`Split sizes [${sizes}] do not add up to ${C} channels`);
  let start = 0;
  sizes.forEach((s, k) => {
    if (outs[k]) im.vals.set(outs[k], addSlice(im, x, `${base}_${k}`, start, start + s));
    start += s;
  });
}

/** Transpose: none (identity), the middle of a channel shuffle, or a transpose of the per-sample axes. */
export function importTranspose(im: ImportContext, { n, inputs, base, set, alias }: NodeIO): void {
  const x = im.tensor(inputs[0]);
  const rank = x.shape.length + 1;
  const perm = im.attrInts(n, 'perm') ?? Array.from({ length: rank }, (_, i) => rank - 1 - i);
  if (perm.length !== rank || [...perm].sort((a, b) => a - b).some((p, i) => p !== i)) im.fail(`perm [${perm}] is not a permutation of the ${rank} axes`);
  if (perm[0] !== 0) im.fail(`Transpose with perm [${perm}] moves the batch dimension; it is not supported`);
  if (perm.every((p, i) => p === i)) return alias(inputs[0]);
  const src = x.squeezed ? undefined : im.node(x.id);
  const swapsFirstTwo = perm[1] === 2 && perm[2] === 1 && perm.slice(3).every((p, i) => p === i + 3);
  if (swapsFirstTwo && src?.op === 'reshape') {
    const [g, cg, ...rest] = x.shape;
    const from = im.node(src.inputs[0]);
    if (from && from.shape.length === rest.length + 1 && from.shape[0] === g * cg && rest.every((d, i) => d === from.shape[i + 1])) {
      const id = im.uniqueId(base);
      im.addNode(id, 'channel_shuffle', [from.id], [...from.shape], { groups: g });
      // the transposed value [C/g, g, ...] is the shuffled channels seen as a view; the following Reshape drops it
      const view = im.uniqueId(`${base}/view`);
      const shape = [cg, g, ...rest];
      im.addNode(view, 'reshape', [id], shape, { shape: [...shape] });
      return set({ kind: 'tensor', id: view, shape });
    }
  }
  // any other permutation of the per-sample axes (tokens, attention heads)
  if (x.squeezed) im.fail(`Transpose of a pooled [C, 1, 1] value is not supported (flatten it first)`);
  const p = perm.slice(1).map((a) => a - 1);
  const id = im.uniqueId(base);
  const shape = p.map((a) => x.shape[a]);
  im.addNode(id, 'transpose', [x.id], shape, { perm: p });
  set({ kind: 'tensor', id, shape });
}
