/**
 * Reading a pattern of ONNX nodes that exporters emit for one operation (LayerNorm's ReduceMean / Sub / Pow / ...,
 * GELU's Div / Erf / Add / Mul / Mul) so that the importer makes one IR node of it. The walk is over the file's
 * nodes (producers and consumers), not the IR made so far, and every value inside the pattern must be read only
 * inside it; a constant is read from an initializer or a Constant node even when that node comes later in the
 * import order.
 */
import type { NodeProto } from '../proto-types.ts';
import type { ImportContext } from './context.ts';
import { decodeTensor } from './tensor.ts';

const isDefault = (n: NodeProto) => !n.domain || n.domain === 'ai.onnx';

/** The only node reading `value` (and nothing else reads it, the graph output included), of type `op`. */
export function soleConsumer(im: ImportContext, value: string, op: string): NodeProto | null {
  const cs = im.consumers.get(value) ?? [];
  if (cs.length !== 1 || im.uses.get(value) !== (cs[0].input ?? []).filter((i) => i === value).length) return null;
  return cs[0].opType === op && isDefault(cs[0]) ? cs[0] : null;
}

/** The node of type `op` writing `value`. */
export function producerOf(im: ImportContext, value: string, op: string): NodeProto | null {
  const p = im.producers.get(value);
  return p && p.opType === op && isDefault(p) ? p : null;
}

/** The float values of a constant input (initializer or Constant node), or null when it is computed. */
export function constFloats(im: ImportContext, name: string | undefined): Float32Array | null {
  if (!name) return null;
  let v = im.vals.get(name);
  if (!v) {
    // a Constant node not imported yet: read its tensor attribute
    const p = im.producers.get(name);
    const a = p?.opType === 'Constant' ? (p.attribute ?? [])[0] : undefined;
    if (!a) return null;
    if (a.name === 'value' && a.t) v = decodeTensor(a.t, `Constant "${name}"`, (r) => im.fail(r));
    else if (a.name === 'value_float') return Float32Array.of(a.f ?? 0);
    else return null;
  }
  if (v.kind === 'lazy') v = im.val(name);
  if (v.kind !== 'const' || !(v.data instanceof Float32Array)) return null;
  return v.data;
}

/** Whether a constant input is the scalar `want` (to float32 precision). */
export function isScalar(im: ImportContext, name: string | undefined, want: number): boolean {
  const c = constFloats(im, name);
  return c !== null && c.length === 1 && Math.abs(c[0] - want) <= 1e-6 * Math.max(1, Math.abs(want));
}

/** The input of a two-input node that is not `value` (either order), or null when `value` is not one of them. */
export function otherInput(n: NodeProto, value: string): string | null {
  const ins = n.input ?? [];
  if (ins.length !== 2) return null;
  if (ins[0] === value) return ins[1];
  if (ins[1] === value) return ins[0];
  return null;
}

/** The first output of a node. */
export const out = (n: NodeProto): string => (n.output ?? [])[0] ?? '';
