/**
 * ONNX importers of the table activations: Sigmoid, Tanh, HardSigmoid, HardSwish, LeakyRelu, PRelu. The x · f(x)
 * patterns exporters write are read as one op: Sigmoid followed by Mul(x, sigmoid(x)) is SiLU (PyTorch's nn.SiLU),
 * HardSigmoid(1/6, 1/2) followed by Mul(x, hardsigmoid(x)) is HardSwish (nn.Hardswish below opset 14).
 */
import type { OpType } from '../../graph/ir.ts';
import type { ImportContext, NodeIO } from '../../io/onnx/import/context.ts';
import type { TensorVal } from '../../io/onnx/import/values.ts';
import type { NodeProto } from '../../io/onnx/proto-types.ts';
import { tryGeluTanh } from './onnx-gelu.ts';

/** An open clip bound in the IR (JSON has no infinity; an f32 never exceeds it). */
export const F32_MAX = 3.4028234663852886e38;

/** The Mul computing x · (this node's output), when it is that output's only reader. */
function gateMul(im: ImportContext, x: string, out: string): NodeProto | null {
  const cs = im.consumers.get(out) ?? [];
  if (cs.length !== 1 || im.uses.get(out) !== 1) return null;
  const m = cs[0];
  const ins = m.input ?? [];
  if (m.opType !== 'Mul' || (m.domain && m.domain !== 'ai.onnx') || ins.length !== 2) return null;
  return (ins[0] === x && ins[1] === out) || (ins[0] === out && ins[1] === x) ? m : null;
}

/** A node of `op` on input 0, same shape (a squeezed [C] value stays squeezed). */
function unary(im: ImportContext, { inputs, base, set }: NodeIO, op: OpType, actParams?: { alpha: number; beta: number }): TensorVal {
  const x = im.tensor(inputs[0]);
  const id = im.uniqueId(base);
  im.addNode(id, op, [x.id], x.squeezed ? [x.shape[0]] : [...x.shape], actParams ? { actParams } : {});
  const v: TensorVal = { ...x, id };
  set(v);
  return v;
}

/** unary(), or the gated op when a Mul(x, f(x)) follows: the Mul's output is then this node's value. */
function gated(im: ImportContext, io: NodeIO, op: OpType, gatedOp: OpType | null, actParams?: { alpha: number; beta: number }): void {
  const m = gatedOp ? gateMul(im, io.inputs[0], io.out) : null;
  const v = unary(im, io, m ? gatedOp! : op, m ? undefined : actParams);
  if (m) im.absorbed.set(m, v);
}

function finiteAttr(im: ImportContext, io: NodeIO, name: string, fallback: number): number {
  const v = im.attrFloat(io.n, name, fallback);
  if (!Number.isFinite(v)) im.fail(`${io.op} attribute ${name} must be a finite number, got ${v}`);
  return v;
}

export const importSigmoid = (im: ImportContext, io: NodeIO): void => gated(im, io, 'sigmoid', 'silu');
// a Tanh inside GELU's tanh approximation is read as one gelu (onnx-gelu.ts)
export const importTanh = (im: ImportContext, io: NodeIO): void => void (tryGeluTanh(im, io) || unary(im, io, 'tanh'));
export const importHardSwish = (im: ImportContext, io: NodeIO): void => void unary(im, io, 'hardswish');

/** HardSigmoid(alpha = 0.2, beta = 0.5 by default); x · HardSigmoid(1/6, 1/2)(x) is HardSwish. */
export function importHardSigmoid(im: ImportContext, io: NodeIO): void {
  const alpha = finiteAttr(im, io, 'alpha', Math.fround(0.2)); // ONNX attributes are float32
  const beta = finiteAttr(im, io, 'beta', 0.5);
  const swish = Math.abs(alpha - 1 / 6) < 1e-6 && beta === 0.5;
  gated(im, io, 'hardsigmoid', swish ? 'hardswish' : null, { alpha, beta });
}

/** LeakyRelu(alpha = 0.01). */
export function importLeakyRelu(im: ImportContext, io: NodeIO): void {
  unary(im, io, 'leakyrelu', { alpha: finiteAttr(im, io, 'alpha', Math.fround(0.01)), beta: 0 });
}

/** PRelu(x, slope): the slope a constant of one value or one per channel ([C, 1, 1] as PyTorch exports it). */
export function importPRelu(im: ImportContext, io: NodeIO): void {
  const x = im.tensor(io.inputs[0]);
  const c = im.constant(io.inputs[1], 'PRelu slope');
  const slope = im.floats(c, 'PRelu slope');
  const C = x.shape[0];
  const rank = x.squeezed ? 2 : x.shape.length + 1;
  const dims = [...Array(Math.max(0, rank - c.dims.length)).fill(1), ...c.dims];
  const perChannel = dims.length === rank && dims.every((d, i) => d === (i === 1 ? C : 1));
  if (slope.length !== 1 && !perChannel) {
    im.fail(`PRelu slope of shape [${c.dims}] is not per channel: expected one value or [${C}, ${Array(rank - 2).fill(1).join(', ')}] for an input of ${C} channels`);
  }
  if (!slope.every(Number.isFinite)) im.fail('PRelu slope has a value that is not a finite number');
  const id = im.uniqueId(io.base);
  const p = im.addParam(`${id}.slope`, Float32Array.from(slope), [slope.length], 'zeros');
  im.addNode(id, 'prelu', [x.id], x.squeezed ? [C] : [...x.shape], {}, { slope: p });
  io.set({ ...x, id });
}
