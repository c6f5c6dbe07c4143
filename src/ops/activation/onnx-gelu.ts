/**
 * GELU from ONNX: the exporters' decompositions recognised as one op (the Div / Mul / Add nodes before the Erf or
 * Tanh become dead IR nodes, dropped at the end of the import):
 *   erf form   (opset < 20, nn.GELU()):                 y = x · (1 + erf(x / √2)) · 0.5
 *   tanh form  (nn.GELU(approximate='tanh')):           y = x · (1 + tanh(√(2/π) · (x + 0.044715 · x³))) · 0.5
 * with either operand order of every Add / Mul, x / √2 or x · (1/√2), x³ as x · (x · x) (as torch writes it), and the 0.5
 * applied last or to x first. A lone Erf is refused (it has no other use in these models).
 */
import type { ImportContext, NodeIO } from '../../io/onnx/import/context.ts';
import { isScalar, otherInput, out, producerOf, soleConsumer } from '../../io/onnx/import/pattern.ts';
import type { TensorVal } from '../../io/onnx/import/values.ts';
import type { NodeProto } from '../../io/onnx/proto-types.ts';

const GELU_C = Math.sqrt(2 / Math.PI);

/** x · 0.5 written as Mul(x, 0.5) (either order): its x, or null. */
function halfOf(im: ImportContext, value: string): string | null {
  const h = producerOf(im, value, 'Mul');
  if (!h) return null;
  const [a, b] = h.input ?? [];
  if (isScalar(im, b, 0.5)) return a;
  if (isScalar(im, a, 0.5)) return b;
  return null;
}

/** After t = erf(..) or tanh(..): (1 + t) · x · 0.5; the nodes to take with this one, or null. */
function geluTail(im: ImportContext, t: string, x: string): NodeProto[] | null {
  const add = soleConsumer(im, t, 'Add');
  if (!add || !isScalar(im, otherInput(add, t) ?? undefined, 1)) return null;
  const mx = soleConsumer(im, out(add), 'Mul');
  const o = mx && otherInput(mx, out(add));
  if (!mx || !o) return null;
  if (o !== x) return halfOf(im, o) === x ? [add, mx] : null;
  const half = soleConsumer(im, out(mx), 'Mul');
  if (!half || !isScalar(im, otherInput(half, out(mx)) ?? undefined, 0.5)) return null;
  return [add, mx, half];
}

/** One gelu node on x; the taken nodes' outputs are its value (they are read nowhere else). */
function makeGelu(im: ImportContext, { base, set }: NodeIO, x: string, kind: 'erf' | 'tanh', taken: NodeProto[]): void {
  const xv = im.tensor(x);
  const id = im.uniqueId(base.replace(/\/(Erf|Tanh)[^/]*$/, '/gelu'));
  im.addNode(id, 'gelu', [xv.id], xv.squeezed ? [xv.shape[0]] : [...xv.shape], { gelu: kind });
  const v: TensorVal = { ...xv, id };
  set(v);
  for (const q of taken) im.absorbed.set(q, v);
}

export function importErf(im: ImportContext, io: NodeIO): void {
  const e = io.inputs[0];
  let x: string | null = null;
  const div = producerOf(im, e, 'Div');
  if (div && isScalar(im, div.input?.[1], Math.SQRT2)) x = div.input![0];
  const mul = producerOf(im, e, 'Mul');
  if (mul) {
    const [a, b] = mul.input ?? [];
    if (isScalar(im, b, Math.SQRT1_2)) x = a;
    else if (isScalar(im, a, Math.SQRT1_2)) x = b;
  }
  const taken = x ? geluTail(im, io.out, x) : null;
  if (!x || !taken) im.fail('Erf is supported only as part of GELU, x · (1 + erf(x / √2)) / 2 (PyTorch\'s nn.GELU())');
  makeGelu(im, io, x, 'erf', taken);
}

/** x when `value` is x³ written as x · (x · x) (either order). */
function cubeOf(im: ImportContext, value: string): string | null {
  const m = producerOf(im, value, 'Mul');
  if (!m) return null;
  for (const [a, b] of [[0, 1], [1, 0]]) {
    const x = m.input![a], sq = producerOf(im, m.input![b], 'Mul');
    if (sq && sq.input?.[0] === x && sq.input?.[1] === x) return x;
  }
  return null;
}

/** The tanh form at its Tanh node: true when it matched (the gelu node is made), false to import a plain Tanh. */
export function tryGeluTanh(im: ImportContext, io: NodeIO): boolean {
  const u = producerOf(im, io.inputs[0], 'Mul');
  if (!u) return false;
  for (const [ci, ai] of [[0, 1], [1, 0]]) {
    if (!isScalar(im, u.input?.[ci], GELU_C)) continue;
    const add = producerOf(im, u.input![ai], 'Add');
    if (!add) continue;
    for (const [xi, bi] of [[0, 1], [1, 0]]) {
      const x = add.input![xi];
      const b = producerOf(im, add.input![bi], 'Mul');
      if (!b) continue;
      const [p, q] = b.input ?? [];
      const cube = isScalar(im, p, 0.044715) ? q : isScalar(im, q, 0.044715) ? p : null;
      if (!cube || cubeOf(im, cube) !== x) continue;
      const taken = geluTail(im, io.out, x);
      if (!taken) return false;
      makeGelu(im, io, x, 'tanh', taken);
      return true;
    }
  }
  return false;
}
