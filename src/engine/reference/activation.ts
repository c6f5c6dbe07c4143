/** The unary activations (src/engine/unary-act.ts): forward and backward, elementwise, in the input's float type. */
import { unaryActDerivative, unaryActValue, type UnaryAct } from '../unary-act.ts';
import { allocLike, checkSize, type FloatArray } from './types.ts';

export function unaryAct(x: FloatArray, a: UnaryAct): FloatArray {
  const y = allocLike(x, x.length);
  for (let i = 0; i < x.length; i++) y[i] = unaryActValue(a, x[i]);
  return y;
}

/** dx = dy · f'(x). */
export function unaryActBackward(dy: FloatArray, x: FloatArray, a: UnaryAct): FloatArray {
  checkSize('unaryActBackward x', x, dy.length);
  const dx = allocLike(dy, dy.length);
  for (let i = 0; i < dy.length; i++) dx[i] = dy[i] * unaryActDerivative(a, x[i]);
  return dx;
}
