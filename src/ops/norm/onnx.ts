/**
 * LayerNorm from ONNX: the LayerNormalization op (opset 17) over the last axis, and the decomposition opset-13
 * exporters emit for nn.LayerNorm, read at its first ReduceMean as one layernorm node:
 *   mean = ReduceMean(x, [-1]); d = Sub(x, mean); v = ReduceMean(Pow(d, 2) | Mul(d, d), [-1])
 *   y = Div(d, Sqrt(Add(v, eps)))  [· Mul(gamma)]  [+ Add(beta)]
 * Every value inside the pattern must be read only inside it (src/io/onnx/import/pattern.ts).
 */
import type { ImportContext, NodeIO } from '../../io/onnx/import/context.ts';
import { constFloats, isScalar, otherInput, out, soleConsumer } from '../../io/onnx/import/pattern.ts';
import type { TensorVal } from '../../io/onnx/import/values.ts';
import type { NodeProto } from '../../io/onnx/proto-types.ts';

/** The reduced axes of a ReduceMean (attribute before opset 18, input from 18), normalized to [0, rank). */
export function reduceAxes(im: ImportContext, n: NodeProto, rank: number): number[] | undefined {
  const ins = n.input ?? [];
  const axes = im.opset >= 18 ? (ins[1] ? im.ints(im.constant(ins[1], 'axes'), 'axes') : undefined) : im.attrInts(n, 'axes');
  return axes && [...new Set(axes.map((a) => (a < 0 ? a + rank : a)))].sort((a, b) => a - b);
}

const overLastAxis = (im: ImportContext, n: NodeProto, rank: number) => {
  const axes = reduceAxes(im, n, rank);
  return axes?.length === 1 && axes[0] === rank - 1 && im.attrInt(n, 'keepdims', 1) === 1;
};

/** A per-feature constant of D values (one value broadcasts), or null. */
function perFeature(im: ImportContext, name: string | null, d: number): Float32Array | null {
  const c = name ? constFloats(im, name) : null;
  if (!c || (c.length !== d && c.length !== 1)) return null;
  return c.length === d ? Float32Array.from(c) : new Float32Array(d).fill(c[0]);
}

function makeLayerNorm(im: ImportContext, base: string, x: TensorVal, eps: number, gamma: Float32Array, beta: Float32Array): TensorVal {
  const id = im.uniqueId(base);
  const d = gamma.length;
  const weight = im.addParam(`${id}.weight`, gamma, [d], 'ones');
  const bias = im.addParam(`${id}.bias`, beta, [d], 'zeros');
  im.addNode(id, 'layernorm', [x.id], [...x.shape], { eps }, { weight, bias });
  return { kind: 'tensor', id, shape: [...x.shape] };
}

/** At a ReduceMean over the last axis: the LayerNorm decomposition, made into one node (true), or false. */
export function tryLayerNormPattern(im: ImportContext, { n, inputs, set, base }: NodeIO): boolean {
  const xName = inputs[0];
  const x = im.tensor(xName);
  const rank = x.shape.length + 1;
  if (x.squeezed || !overLastAxis(im, n, rank)) return false;
  const d = x.shape[x.shape.length - 1];
  const sub = soleConsumer(im, out(n), 'Sub');
  if (!sub || sub.input?.[0] !== xName || sub.input?.[1] !== out(n)) return false;
  const centered = out(sub);
  const cs = im.consumers.get(centered) ?? [];
  const sq = cs.find((q) => (q.opType === 'Pow' && q.input?.[0] === centered && isScalar(im, q.input?.[1], 2)) ||
    (q.opType === 'Mul' && q.input?.[0] === centered && q.input?.[1] === centered));
  const div = cs.find((q) => q.opType === 'Div' && q.input?.[0] === centered);
  const reads = sq ? (sq.opType === 'Mul' ? 2 : 1) + 1 : 0;
  if (!sq || !div || cs.length !== 2 || im.uses.get(centered) !== reads) return false;
  const rm = soleConsumer(im, out(sq), 'ReduceMean');
  if (!rm || !overLastAxis(im, rm, rank)) return false;
  const addEps = soleConsumer(im, out(rm), 'Add');
  const epsC = addEps ? constFloats(im, otherInput(addEps, out(rm)) ?? undefined) : null;
  if (!addEps || !epsC || epsC.length !== 1 || !(epsC[0] >= 0)) return false;
  const sqrt = soleConsumer(im, out(addEps), 'Sqrt');
  if (!sqrt || soleConsumer(im, out(sqrt), 'Div') !== div || div.input?.[1] !== out(sqrt)) return false;
  const taken: NodeProto[] = [sub, sq, rm, addEps, sqrt, div];
  let y = out(div);
  let gamma: Float32Array = new Float32Array(d).fill(1), beta: Float32Array = new Float32Array(d);
  const mul = soleConsumer(im, y, 'Mul');
  const g = mul && perFeature(im, otherInput(mul, y), d);
  if (mul && g) { gamma = g; taken.push(mul); y = out(mul); }
  const add = soleConsumer(im, y, 'Add');
  const b = add && perFeature(im, otherInput(add, y), d);
  if (add && b) { beta = b; taken.push(add); }
  const v = makeLayerNorm(im, base.replace(/\/ReduceMean[^/]*$/, '/layernorm'), x, epsC[0], gamma, beta);
  set(v);
  for (const q of taken) im.absorbed.set(q, v);
  return true;
}

/** LayerNormalization (opset 17) over the last axis; its Mean / InvStdDev outputs must be unused. */
export function importLayerNormalization(im: ImportContext, { n, inputs, base, set }: NodeIO): void {
  const x = im.tensor(inputs[0]);
  if (x.squeezed) im.fail('LayerNormalization of a pooled [C, 1, 1] value is not supported (flatten it first)');
  const rank = x.shape.length + 1;
  let axis = im.attrInt(n, 'axis', -1);
  if (axis < 0) axis += rank;
  if (axis !== rank - 1) im.fail(`LayerNormalization over axes ${axis}.. of a rank-${rank} tensor is not supported (only the last axis)`);
  im.onlyFirstOutput(n, 'the LayerNormalization statistics');
  const d = x.shape[x.shape.length - 1];
  const eps = im.attrFloat(n, 'epsilon', 1e-5);
  if (!(eps >= 0)) im.fail(`epsilon ${eps} must be ≥ 0`);
  const gamma = perFeature(im, inputs[1], d);
  if (!gamma) im.fail(`Scale must be a constant of ${d} values (the last axis)`);
  const beta = inputs[2] ? perFeature(im, inputs[2], d) : new Float32Array(d);
  if (!beta) im.fail(`B must be a constant of ${d} values (the last axis)`);
  set(makeLayerNorm(im, base, x, eps, gamma, beta));
}
