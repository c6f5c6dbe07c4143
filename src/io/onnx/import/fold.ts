/**
 * Constant folding of the shape subgraphs exporters emit (opsets 9 to 17): `x.view(x.size(0), g, -1, h, w)` and
 * `x.chunk(2, 1)` become Shape -> Gather -> Unsqueeze -> Concat (and Div / Mul / Add / Cast for computed sizes)
 * feeding a Reshape or a Slice. The input shape is static, so every Shape is a constant and the whole subgraph
 * folds at import; only the batch size is unknown: Shape marks that element (ConstVal.batch), folding moves it
 * (Gather, Unsqueeze, Squeeze, Concat, Slice, Cast) but refuses to compute with it, and a Reshape target reads it
 * as "keep the batch".
 *
 * `foldNode` runs before the op's importer: Shape always folds; the other ops below fold when every input is a
 * constant. Unsqueeze / Cast of a computed tensor are refused by their importers (SHAPE_SUBGRAPH_IMPORTERS); Gather
 * and Squeeze of one are read by the slice / reshape importers (a class-token readout).
 * Also folded: ConstantOfShape, Equal, Where, Reshape and Expand of constants (`x.expand(x.shape[0], -1, -1)`); an
 * Expand of a constant to the batch size is left to its importer (a learned constant: src/ops/shape/onnx-constant.ts).
 */
import { sliceArgs } from '../../../ops/shape/onnx-slice.ts';
import { DataType, DATA_TYPE_NAMES } from '../proto-types.ts';
import type { ImportContext, NodeIO } from './context.ts';
import { decodeTensor } from './tensor.ts';
import { prod, type ConstVal, type TensorVal } from './values.ts';

/** Folded constants larger than this are refused (shape subgraphs are tiny; this bounds the work on odd files). */
const MAX_FOLD_ELEMENTS = 1 << 20;

const INT_TYPES: ReadonlySet<number> = new Set([DataType.INT64, DataType.INT32, DataType.INT16, DataType.INT8, DataType.UINT8, DataType.BOOL]);

type Folder = (im: ImportContext, io: NodeIO, xs: ConstVal[]) => ConstVal;

function make(dims: number[], data: number[], dataType: number, batch?: boolean[]): ConstVal {
  const isInt = INT_TYPES.has(dataType);
  const c: ConstVal = { kind: 'const', dims, data: isInt ? data : Float32Array.from(data), dataType };
  if (batch?.some((b) => b)) c.batch = batch;
  return c;
}

const batchOf = (c: ConstVal): boolean[] => c.batch ?? new Array<boolean>(c.data.length).fill(false);
const values = (c: ConstVal): number[] => Array.from(c.data as ArrayLike<number>);

function axisOf(im: ImportContext, axis: number, rank: number, what: string): number {
  const a = axis < 0 ? axis + rank : axis;
  if (!(a >= 0 && a < rank)) im.fail(`${what} axis ${axis} is outside a rank-${rank} tensor`);
  return a;
}

/** Row-major strides of `dims`. */
function strides(dims: number[]): number[] {
  const s = new Array<number>(dims.length).fill(1);
  for (let i = dims.length - 2; i >= 0; i--) s[i] = s[i + 1] * dims[i + 1];
  return s;
}

/** Shape of a tensor (or constant): [batch, ...per-sample dims] with the batch marked; opset 15 start / end. */
function foldShape(im: ImportContext, { n, inputs }: NodeIO): ConstVal {
  const v = im.val(inputs[0]);
  const full = v.kind === 'tensor' ? [1, ...(v as TensorVal).shape] : [...v.dims];
  const batch = full.map((_, i) => v.kind === 'tensor' && i === 0);
  const r = full.length;
  const clampAxis = (a: number) => Math.min(r, Math.max(0, a < 0 ? a + r : a));
  const start = clampAxis(im.attrInt(n, 'start', 0));
  const end = clampAxis(im.attrInt(n, 'end', r));
  const dims = full.slice(start, Math.max(start, end));
  return make([dims.length], dims, DataType.INT64, batch.slice(start, Math.max(start, end)));
}

const foldGather: Folder = (im, { n }, [data, idx]) => {
  if (!INT_TYPES.has(idx.dataType)) im.fail('Gather indices must be integers');
  im.noBatch(idx, 'Gather indices');
  const rank = data.dims.length;
  if (rank === 0) im.fail('Gather of a scalar');
  const axis = axisOf(im, im.attrInt(n, 'axis', 0), rank, 'Gather');
  const d = data.dims[axis];
  const outer = prod(data.dims.slice(0, axis)), inner = prod(data.dims.slice(axis + 1));
  const ix = values(idx).map((i) => (i < 0 ? i + d : i));
  if (ix.some((i) => !(Number.isInteger(i) && i >= 0 && i < d))) im.fail(`Gather index outside [${-d}, ${d - 1}]`);
  if (outer * ix.length * inner > MAX_FOLD_ELEMENTS) im.fail(`Gather of constants with ${outer * ix.length * inner} elements is too large to fold`);
  const src = values(data), sb = batchOf(data);
  const out: number[] = [], ob: boolean[] = [];
  for (let o = 0; o < outer; o++) {
    for (const i of ix) {
      for (let k = 0; k < inner; k++) {
        const at = (o * d + i) * inner + k;
        out.push(src[at]);
        ob.push(sb[at]);
      }
    }
  }
  return make([...data.dims.slice(0, axis), ...idx.dims, ...data.dims.slice(axis + 1)], out, data.dataType, ob);
};

/** Unsqueeze / Squeeze axes: the attribute before opset 13, the second input from 13. */
function axesOf(im: ImportContext, { n, inputs }: NodeIO, xs: ConstVal[]): number[] | undefined {
  if (im.opset >= 13) return inputs[1] ? im.ints(xs[1], 'axes') : undefined;
  return im.attrInts(n, 'axes');
}

const foldUnsqueeze: Folder = (im, io, xs) => {
  const axes = axesOf(im, io, xs);
  if (!axes) return im.fail('Unsqueeze needs axes');
  const rank = xs[0].dims.length + axes.length;
  const at = new Set(axes.map((a) => axisOf(im, a, rank, 'Unsqueeze')));
  const dims: number[] = [];
  for (let i = 0, j = 0; i < rank; i++) dims.push(at.has(i) ? 1 : xs[0].dims[j++]);
  return { ...xs[0], dims };
};

const foldSqueeze: Folder = (im, io, xs) => {
  const axes = axesOf(im, io, xs);
  const rank = xs[0].dims.length;
  const at = new Set((axes ?? xs[0].dims.flatMap((d, i) => (d === 1 ? [i] : []))).map((a) => axisOf(im, a, rank, 'Squeeze')));
  for (const a of at) if (xs[0].dims[a] !== 1) im.fail(`Squeeze of axis ${a} of size ${xs[0].dims[a]}`);
  return { ...xs[0], dims: xs[0].dims.filter((_, i) => !at.has(i)) };
};

const foldConcat: Folder = (im, { n }, xs) => {
  const rank = xs[0].dims.length;
  if (rank === 0) im.fail('Concat of scalars');
  const axis = axisOf(im, im.attrInt(n, 'axis', 0), rank, 'Concat');
  for (const x of xs) {
    if (x.dims.length !== rank || x.dims.some((d, i) => i !== axis && d !== xs[0].dims[i])) im.fail(`Concat of constants [${xs.map((c) => `[${c.dims}]`).join(', ')}] on axis ${axis}`);
  }
  const outer = prod(xs[0].dims.slice(0, axis));
  const out: number[] = [], ob: boolean[] = [];
  for (let o = 0; o < outer; o++) {
    for (const x of xs) {
      const len = prod(x.dims.slice(axis));
      const v = values(x), b = batchOf(x);
      for (let k = o * len; k < (o + 1) * len; k++) {
        out.push(v[k]);
        ob.push(b[k]);
      }
    }
  }
  const dims = [...xs[0].dims];
  dims[axis] = xs.reduce((s, x) => s + x.dims[axis], 0);
  return make(dims, out, xs[0].dataType, ob);
};

const foldCast: Folder = (im, { n }, [x]) => {
  const to = im.attrInt(n, 'to', 0);
  if (to === DataType.FLOAT || to === DataType.DOUBLE) return make(x.dims, values(x), DataType.FLOAT, x.batch);
  if (!INT_TYPES.has(to)) im.fail(`Cast to ${DATA_TYPE_NAMES[to] ?? to} is not supported in a folded shape computation`);
  return make(x.dims, values(x).map((v) => Math.trunc(v)), to === DataType.BOOL ? to : DataType.INT64, x.batch);
};

/** numpy broadcasting of several constants: the output dims and, per output element, each input's element. */
function broadcast(im: ImportContext, name: string, xs: ConstVal[]): { dims: number[]; at: number[][] } {
  const rank = Math.max(...xs.map((x) => x.dims.length));
  const padded = xs.map((x) => [...new Array<number>(rank - x.dims.length).fill(1), ...x.dims]);
  const dims = new Array<number>(rank).fill(1).map((_, i) => {
    const ds = padded.map((d) => d[i]);
    const big = Math.max(...ds);
    if (ds.some((d) => d !== 1 && d !== big)) im.fail(`${name} of constants ${xs.map((x) => `[${x.dims}]`).join(' and ')} do not broadcast`);
    return ds.includes(0) ? 0 : big;
  });
  const total = prod(dims);
  if (total > MAX_FOLD_ELEMENTS) im.fail(`${name} of constants with ${total} elements is too large to fold`);
  const ss = padded.map((d) => strides(d).map((s, i) => (d[i] === 1 ? 0 : s)));
  const so = strides(dims);
  const at = xs.map(() => new Array<number>(total));
  for (let i = 0; i < total; i++) {
    let r = i;
    const ix = xs.map(() => 0);
    for (let k = 0; k < rank; k++) {
      const q = Math.floor(r / so[k]);
      r -= q * so[k];
      for (let j = 0; j < xs.length; j++) ix[j] += q * ss[j][k];
    }
    for (let j = 0; j < xs.length; j++) at[j][i] = ix[j];
  }
  return { dims, at };
}

/** Elementwise arithmetic with numpy broadcasting (shape vectors and scalars). */
function binary(f: (a: number, b: number) => number, name: string): Folder {
  return (im, _io, [a, b]) => {
    im.noBatch(a, `${name} input`);
    im.noBatch(b, `${name} input`);
    const { dims, at } = broadcast(im, name, [a, b]);
    const va = values(a), vb = values(b);
    const out = at[0].map((ia, i) => f(va[ia], vb[at[1][i]]));
    const isInt = INT_TYPES.has(a.dataType) && INT_TYPES.has(b.dataType);
    if (isInt && out.some((v) => !Number.isFinite(v))) im.fail(`${name} of integer constants divides by zero`);
    return make(dims, isInt ? out.map((v) => Math.trunc(v)) : out, isInt ? DataType.INT64 : DataType.FLOAT);
  };
}

/**
 * Equal of shape values: a batch size compared with a fixed value is known when that value cannot be a batch size
 * (≤ 0: the -1 of `expand(x.shape[0], -1, -1)`), and equals another batch size; anything else depends on it.
 */
const foldEqual: Folder = (im, _io, [a, b]) => {
  const { dims, at } = broadcast(im, 'Equal', [a, b]);
  const va = values(a), vb = values(b), ba = batchOf(a), bb = batchOf(b);
  const out = at[0].map((ia, i) => {
    const ib = at[1][i];
    if (ba[ia] && bb[ib]) return 1;
    if (ba[ia] || bb[ib]) {
      if ((ba[ia] ? vb[ib] : va[ia]) <= 0) return 0;
      im.fail('Equal of the batch size and a positive constant depends on the batch size');
    }
    return va[ia] === vb[ib] ? 1 : 0;
  });
  return make(dims, out, DataType.BOOL);
};

/** Where(cond, a, b) elementwise with broadcasting; the batch marks go with the chosen elements. */
const foldWhere: Folder = (im, _io, [c, a, b]) => {
  im.noBatch(c, 'Where condition');
  const { dims, at } = broadcast(im, 'Where', [c, a, b]);
  const vc = values(c), va = values(a), vb = values(b), ba = batchOf(a), bb = batchOf(b);
  const out: number[] = [], ob: boolean[] = [];
  at[0].forEach((ic, i) => {
    const pick = vc[ic] !== 0;
    out.push(pick ? va[at[1][i]] : vb[at[2][i]]);
    ob.push(pick ? ba[at[1][i]] : bb[at[2][i]]);
  });
  return make(dims, out, a.dataType, ob);
};

/** ConstantOfShape: the `value` attribute's one element (float 0 by default) repeated to the given shape. */
const foldConstantOfShape: Folder = (im, { n }, [shape]) => {
  const dims = im.ints(shape, 'ConstantOfShape shape');
  if (dims.some((d) => !(Number.isSafeInteger(d) && d >= 0))) im.fail(`ConstantOfShape to [${dims}]`);
  if (prod(dims) > MAX_FOLD_ELEMENTS) im.fail(`ConstantOfShape of ${prod(dims)} elements is too large to fold`);
  const a = im.attr(n, 'value');
  let v = 0, dt: number = DataType.FLOAT;
  if (a?.t) {
    const t = a.t;
    dt = t.dataType ?? DataType.FLOAT;
    const c = decodeTensor(t, 'ConstantOfShape value', (r) => im.fail(r));
    if (c.data.length !== 1) im.fail('ConstantOfShape value must have one element');
    v = Number(c.data[0]);
  }
  return make(dims, new Array<number>(prod(dims)).fill(v), dt);
};

/** Reshape of a constant (a shape vector): the same elements, batch marks included, in the new dims. */
const foldReshape: Folder = (im, { n }, [x, target]) => {
  const t = im.ints(target, 'Reshape shape');
  const allowzero = im.attrInt(n, 'allowzero', 0) !== 0;
  const dims = t.map((d, i) => (d === 0 && !allowzero ? x.dims[i] : d));
  const neg = dims.indexOf(-1);
  const known = prod(dims.filter((d) => d !== -1));
  if (neg >= 0 && known > 0) dims[neg] = x.data.length / known;
  if (dims.some((d) => !Number.isSafeInteger(d) || d < 0) || prod(dims) !== x.data.length) im.fail(`Reshape of a constant [${x.dims}] to [${t}]`);
  return { ...x, dims };
};

/** Expand of a constant to a fixed shape (one to the batch size is a learned constant: src/ops/shape/onnx-constant.ts). */
const foldExpand: Folder = (im, _io, [x, shape]) => {
  const t = im.ints(shape, 'Expand shape');
  const { dims, at } = broadcast(im, 'Expand', [x, { kind: 'const', dims: t, data: [], dataType: DataType.INT64 }]);
  const v = values(x), b = batchOf(x);
  return make(dims, at[0].map((i) => v[i]), x.dataType, at[0].map((i) => b[i]));
};

/** Slice of a constant (starts / ends / axes / steps: attributes before opset 10, inputs from 10). */
const foldSlice: Folder = (im, { n, inputs }, xs) => {
  const [x] = xs;
  const rank = x.dims.length;
  const { starts, ends, axes, steps } = sliceArgs(im, n, inputs, (i) => xs[i]);
  const lo = x.dims.map(() => 0), hi = [...x.dims], st = x.dims.map(() => 1);
  axes.forEach((a0, k) => {
    const a = axisOf(im, a0, rank, 'Slice');
    const d = x.dims[a];
    if (steps[k] !== 1) im.fail(`Slice with step ${steps[k]} is not supported (only 1)`);
    const c = (v: number) => Math.min(d, Math.max(0, v < 0 ? v + d : v));
    lo[a] = c(starts[k]);
    hi[a] = Math.max(lo[a], c(ends[k]));
    st[a] = steps[k];
  });
  const dims = x.dims.map((_, i) => hi[i] - lo[i]);
  const s = strides(x.dims), so = strides(dims), total = prod(dims);
  const v = values(x), b = batchOf(x);
  const out: number[] = [], ob: boolean[] = [];
  for (let i = 0; i < total; i++) {
    let at = 0, r = i;
    for (let k = 0; k < rank; k++) {
      const q = Math.floor(r / so[k]);
      r -= q * so[k];
      at += (lo[k] + q) * s[k];
    }
    out.push(v[at]);
    ob.push(b[at]);
  }
  return make(dims, out, x.dataType, ob);
};

const FOLDERS: Record<string, Folder> = {
  Gather: foldGather,
  Unsqueeze: foldUnsqueeze,
  Squeeze: foldSqueeze,
  Concat: foldConcat,
  Cast: foldCast,
  Slice: foldSlice,
  Add: binary((a, b) => a + b, 'Add'),
  Sub: binary((a, b) => a - b, 'Sub'),
  Mul: binary((a, b) => a * b, 'Mul'),
  Div: binary((a, b) => a / b, 'Div'),
  Equal: foldEqual,
  Where: foldWhere,
  ConstantOfShape: foldConstantOfShape,
  Reshape: foldReshape,
  Expand: foldExpand,
};

/**
 * Folds the node into constants when it is part of a shape computation; returns whether it did (the op's own
 * importer is not called then).
 */
export function foldNode(im: ImportContext, io: NodeIO): boolean {
  if (io.op === 'Shape') {
    io.set(foldShape(im, io));
    return true;
  }
  const folder = FOLDERS[io.op];
  if (!folder) return false;
  const given = io.inputs.filter((i) => i);
  if (!given.length) return false;
  for (const i of given) {
    const v = im.vals.get(i);
    if (!v || v.kind === 'tensor' || im.pads.has(i)) return false;
  }
  const xs = io.inputs.map((i) => (i ? im.constant(i, 'input') : ({ kind: 'const', dims: [0], data: [], dataType: DataType.INT64 } as ConstVal)));
  if (xs.some((x) => x.data.length > MAX_FOLD_ELEMENTS)) im.fail(`a constant with more than ${MAX_FOLD_ELEMENTS} elements in a shape computation`);
  // a constant expanded to the batch size is a per-sample value repeated over the batch: a node, not a constant
  if (io.op === 'Expand' && xs[1].batch?.some((b) => b)) return false;
  io.set(folder(im, io, xs));
  return true;
}

/** The importers of the shape-only ops: reached only when an input is computed at run time (nothing folded). */
const refuse = (op: string) => (im: ImportContext): never =>
  im.fail(`${op} of a computed tensor is not supported (only shape computations on constants, folded at import)`);

export const SHAPE_SUBGRAPH_IMPORTERS = {
  Shape: (im: ImportContext, io: NodeIO) => io.set(foldShape(im, io)),
  Unsqueeze: refuse('Unsqueeze'),
  Cast: refuse('Cast'),
};
