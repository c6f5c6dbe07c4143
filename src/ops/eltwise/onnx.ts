/**
 * Mul, Sub and Div (and an Add of a constant that no conv / linear bias takes): two computed values of one shape,
 * a per-channel gate (x[N, C, H, W] * s[N, C, 1, 1], squeeze-excitation), or a value and a scalar constant
 * (→ affine: x * factor + offset).
 */
import type { ImportContext, NodeIO } from '../../io/onnx/import/context.ts';
import type { ConstVal, TensorVal, Val } from '../../io/onnx/import/values.ts';

/**
 * A node y = x * factor + offset on x (squeezed values stay squeezed). Consecutive constants fold into one node
 * when x is an affine read only here ((x - 0.5) / 0.25 is one node: one requantization in the integer model).
 */
export function affineOf(im: ImportContext, base: string, x: TensorVal, factor: number, offset: number): TensorVal {
  if (!Number.isFinite(factor) || !Number.isFinite(offset)) im.fail(`the constant gives x * ${factor} + ${offset}, which is not finite`);
  const prev = im.nodes.find((q) => q.id === x.id);
  if (prev?.op === 'affine' && prev.attrs.affine && im.reads(x.id) === 1) {
    const a = prev.attrs.affine;
    const folded = { factor: a.factor * factor, offset: a.offset * factor + offset };
    if (Number.isFinite(folded.factor) && Number.isFinite(folded.offset)) {
      prev.attrs.affine = folded;
      return x;
    }
  }
  const id = im.uniqueId(base);
  im.addNode(id, 'affine', [x.id], x.squeezed ? [x.shape[0]] : [...x.shape], { affine: { factor, offset } });
  return { ...x, id };
}

/** The one value of a scalar (or one-element) float constant; `what` names it in the error. */
function scalarOf(im: ImportContext, c: ConstVal, op: string): number {
  if (c.data.length !== 1) im.fail(`${op} by a constant of shape [${c.dims}] is not supported; only by a scalar constant (one value)`);
  return im.floats(c, `the ${op} constant`)[0];
}

function inputs2(im: ImportContext, op: string, inputs: string[]): [Val, Val] {
  if (inputs.length !== 2 || !inputs[0] || !inputs[1]) im.fail(`${op} needs 2 inputs, has ${inputs.filter(Boolean).length}`);
  const a = im.val(inputs[0]), b = im.val(inputs[1]);
  if (a.kind === 'const' && b.kind === 'const') im.fail(`${op} of two constants is not supported (export with constant folding)`);
  // checks that neither is a folded Pad's output
  if (a.kind === 'tensor') im.tensor(inputs[0]);
  if (b.kind === 'tensor') im.tensor(inputs[1]);
  return [a, b];
}

/** Two computed values of one per-sample shape: their IR ids (both squeezed [C] values, or both materialized). */
function sameShape(im: ImportContext, op: string, base: string, a: TensorVal, b: TensorVal): { ids: [string, string]; out: Omit<TensorVal, 'id'>; irShape: number[] } {
  if (a.shape.join() !== b.shape.join()) im.fail(`${op} of [${a.shape}] and [${b.shape}] (per sample) is not supported: the shapes must match`);
  let ia = a.id, ib = b.id;
  if (a.squeezed !== b.squeezed) { ia = im.materialize(a, base); ib = im.materialize(b, base); }
  const sq = a.squeezed === true && b.squeezed === true;
  return { ids: [ia, ib], out: { kind: 'tensor', shape: [...a.shape], squeezed: sq }, irShape: sq ? [a.shape[0]] : [...a.shape] };
}

/** Mul → mul (two values, or a per-channel gate), or affine (by a scalar constant). */
export function importMul(im: ImportContext, { inputs, base, set }: NodeIO): void {
  const [a, b] = inputs2(im, 'Mul', inputs);
  if (a.kind === 'const' || b.kind === 'const') {
    const [t, c] = (a.kind === 'tensor' ? [a, b] : [b, a]) as [TensorVal, ConstVal];
    set(affineOf(im, base, t, scalarOf(im, c, 'Mul'), 0));
    return;
  }
  const id = im.uniqueId(base);
  const na = a.shape.reduce((x, y) => x * y, 1), nb = b.shape.reduce((x, y) => x * y, 1);
  if (na === nb) {
    const s = sameShape(im, 'Mul', base, a, b);
    im.addNode(id, 'mul', s.ids, s.irShape);
    set({ ...s.out, id });
    return;
  }
  // Per-channel gate: the full [C, H, W] value first, the [C, 1, 1] gate second (materialized, so the IR and the
  // QDQ export both see [C, 1, 1] and broadcast it the ONNX way).
  const [x, g] = na > nb ? [a, b] : [b, a];
  const C = x.shape[0];
  if (x.shape.length !== 3 || g.shape.length !== 3 || g.shape[0] !== C || g.shape[1] !== 1 || g.shape[2] !== 1) {
    im.fail(`Mul of [${a.shape}] and [${b.shape}] (per sample) is not supported: only equal shapes or an NCHW value times a per-channel [C, 1, 1] gate`);
  }
  const gid = im.materialize(g, base);
  const xid = im.materialize(x, base);
  im.addNode(id, 'mul', [xid, gid], [...x.shape]);
  set({ kind: 'tensor', id, shape: [...x.shape] });
}

/** Sub → sub (two values of one shape), or affine (a scalar constant on either side). */
export function importSub(im: ImportContext, { inputs, base, set }: NodeIO): void {
  const [a, b] = inputs2(im, 'Sub', inputs);
  if (b.kind === 'const') { set(affineOf(im, base, a as TensorVal, 1, -scalarOf(im, b, 'Sub'))); return; }
  if (a.kind === 'const') { set(affineOf(im, base, b, -1, scalarOf(im, a, 'Sub'))); return; }
  const s = sameShape(im, 'Sub', base, a, b);
  const id = im.uniqueId(base);
  im.addNode(id, 'sub', s.ids, s.irShape);
  set({ ...s.out, id });
}

/** Div by a scalar constant → affine (a Mul by its reciprocal); a computed divisor is refused. */
export function importDiv(im: ImportContext, { inputs, base, set }: NodeIO): void {
  const [a, b] = inputs2(im, 'Div', inputs);
  if (b.kind !== 'const' || a.kind !== 'tensor') im.fail('Div is supported only as a computed value divided by a scalar constant');
  const d = scalarOf(im, b, 'Div');
  if (d === 0) im.fail('Div by the constant 0');
  set(affineOf(im, base, a, 1 / d, 0));
}
