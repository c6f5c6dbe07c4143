/** Gemm, MatMul (+ a following Add of a constant folded into the bias), and Add. */
import type { ConstVal, TensorVal } from '../../io/onnx/import/values.ts';
import { prod } from '../../io/onnx/import/values.ts';
import type { GraphNode } from '../../graph/ir.ts';
import type { ImportContext, NodeIO } from '../../io/onnx/import/context.ts';
import { affineOf } from '../eltwise/onnx.ts';
import { constantOperand } from '../shape/onnx-constant.ts';

/** Gemm → linear (alpha, beta, transB folded into the weight and bias). */
export function importGemm(im: ImportContext, { n, inputs, base, set }: NodeIO): void {
  const x = im.tensor(inputs[0]);
  if (x.shape.length !== 1 && !x.squeezed) im.fail(`Gemm input must be [N, features], has per-sample shape [${x.shape}]`);
  if (im.attrInt(n, 'transA', 0) !== 0) im.fail('transA=1 is not supported');
  const transB = im.attrInt(n, 'transB', 0);
  const alpha = im.attrFloat(n, 'alpha', 1), beta = im.attrFloat(n, 'beta', 1);
  const bc = im.constant(inputs[1], 'B');
  const B = im.floats(bc, 'B');
  if (bc.dims.length !== 2) im.fail(`B must be 2-D, has shape [${bc.dims}]`);
  const inF = prod(x.shape);
  const [outF, k] = transB ? bc.dims : [bc.dims[1], bc.dims[0]];
  if (k !== inF || outF === 0) im.fail(`B [${bc.dims}] (transB ${transB}) does not fit ${inF} input features`);
  const w = new Float32Array(outF * inF);
  for (let o = 0; o < outF; o++) for (let i = 0; i < inF; i++) w[o * inF + i] = alpha * (transB ? B[o * inF + i] : B[i * outF + o]);
  let bias: Float32Array | null = null;
  if (inputs[2]) {
    const cc = im.constant(inputs[2], 'C');
    const C = im.floats(cc, 'C');
    bias = new Float32Array(outF);
    if (C.length === outF && (cc.dims.length <= 1 || cc.dims[cc.dims.length - 1] === outF)) for (let o = 0; o < outF; o++) bias[o] = beta * C[o];
    else if (C.length === 1) bias.fill(beta * C[0]);
    else im.fail(`C of shape [${cc.dims}] is not a per-output bias for ${outF} outputs`);
  }
  set(linear(im, base, x, w, outF, inF, bias));
}

/**
 * MatMul by a constant [in, out] → linear without bias (an Add after it becomes the bias), on [N, features] or on
 * the last axis of tokens [N, T, features]; MatMul of two computed values → matmul (matmul.ts).
 */
export function importMatMul(im: ImportContext, io: NodeIO): void {
  const { inputs, base, set } = io;
  if (im.val(inputs[1]).kind === 'tensor') return importMatMulOfValues(im, io);
  const x = im.tensor(inputs[0]);
  const bc = im.constant(inputs[1], 'B (the weight)');
  const B = im.floats(bc, 'B');
  const inF = x.squeezed ? prod(x.shape) : x.shape[x.shape.length - 1];
  if (bc.dims.length !== 2 || bc.dims[0] !== inF || bc.dims[1] === 0) im.fail(`B [${bc.dims}] does not fit ${inF} input features`);
  const outF = bc.dims[1];
  const w = new Float32Array(outF * inF);
  for (let o = 0; o < outF; o++) for (let i = 0; i < inF; i++) w[o * inF + i] = B[i * outF + o];
  set(linear(im, base, x, w, outF, inF, null));
}

/** Add of two equal-shaped tensors → add; Add of a constant → the bias of the conv / linear before it. */
export function importAdd(im: ImportContext, { inputs, base, set }: NodeIO): void {
  if (inputs.length !== 2) im.fail(`Add needs 2 inputs, has ${inputs.length}`);
  const a = im.val(inputs[0]), b = im.val(inputs[1]);
  if (a.kind === 'tensor' && b.kind === 'tensor') {
    im.tensor(inputs[0]);
    im.tensor(inputs[1]);
    if (a.shape.join() !== b.shape.join()) im.fail(`Add of [${a.shape}] and [${b.shape}] (per sample): broadcasting is not supported`);
    let ia = a.id, ib = b.id;
    if (a.squeezed !== b.squeezed) { ia = im.materialize(a, base); ib = im.materialize(b, base); }
    const id = im.uniqueId(base);
    im.addNode(id, 'add', [ia, ib], a.squeezed && b.squeezed ? [a.shape[0]] : [...a.shape]);
    set({ kind: 'tensor', id, shape: [...a.shape], squeezed: a.squeezed && b.squeezed });
    return;
  }
  if (a.kind === 'const' && b.kind === 'const') im.fail('Add of two constants is not supported');
  const t = (a.kind === 'tensor' ? a : b) as TensorVal;
  const c = (a.kind === 'const' ? a : b) as ConstVal;
  im.tensor(a.kind === 'tensor' ? inputs[0] : inputs[1]);
  const cf = im.floats(c, 'the added constant');
  // A scalar that no conv / linear bias can take (e.g. x + 3 of a hard-swish whose x is read twice): an affine node.
  if (cf.length === 1 && !biasTarget(im, t)) {
    set(affineOf(im, base, t, 1, cf[0]));
    return;
  }
  // A constant no bias takes (a learned position table [1, T, D] added to the tokens): its own `constant` node.
  if (!biasTarget(im, t) || !isPerChannel(biasTarget(im, t)!, c.dims)) {
    if (t.squeezed) im.fail(`Add of a constant [${c.dims}] to a pooled [C, 1, 1] value is not supported`);
    const k = constantOperand(im, base, c, t.shape, 'the added constant');
    const id = im.uniqueId(base);
    im.addNode(id, 'add', [t.id, k.id], [...t.shape]);
    set({ kind: 'tensor', id, shape: [...t.shape] });
    return;
  }
  foldBias(im, t, cf, c.dims);
  set(t);
}

/** Whether an added constant of `dims` is one value per output channel of the conv / linear `node` (its bias). */
function isPerChannel(node: GraphNode, dims: number[]): boolean {
  const outC = node.op === 'linear' ? node.shape[node.shape.length - 1] : node.shape[0];
  const n = prod(dims);
  if (n === 1) return true;
  if (n !== outC) return false;
  return node.op === 'linear' ? dims[dims.length - 1] === outC : dims.length >= 3 && dims[dims.length - 3] === outC;
}

/** A linear node on x (per-sample [F], a GlobalAveragePool's [C, 1, 1] that is [C] in the IR, or tokens [T, F]). */
export function linear(im: ImportContext, base: string, x: TensorVal, w: Float32Array, outF: number, inF: number, bias: Float32Array | null): TensorVal {
  const id = im.uniqueId(base);
  const params: Record<string, string> = { weight: im.addParam(`${id}.weight`, w, [outF, inF], 'kaiming_uniform', 'param', inF) };
  if (bias) params.bias = im.addParam(`${id}.bias`, bias, [outF], 'bias_uniform', 'param', inF);
  const shape = x.squeezed || x.shape.length === 1 ? [outF] : [...x.shape.slice(0, -1), outF];
  im.addNode(id, 'linear', [x.id], shape, {}, params);
  return { kind: 'tensor', id, shape };
}

/**
 * MatMul of two computed values [..., M, K] x [..., K, N] (equal leading axes) → matmul. A B operand made by a
 * transpose that moves the last axis, read only here, is folded into the product as transB (q @ kᵀ: the head
 * split's transpose then feeds the product directly, as a BPU reads the transposed operand).
 */
function importMatMulOfValues(im: ImportContext, { inputs, base, set }: NodeIO): void {
  const a = im.tensor(inputs[0]), b = im.tensor(inputs[1]);
  if (a.squeezed || b.squeezed) im.fail('MatMul of a pooled [C, 1, 1] value is not supported');
  const r = a.shape.length;
  if (r < 2 || b.shape.length !== r || a.shape.slice(0, r - 2).some((d, i) => d !== b.shape[i])) {
    im.fail(`MatMul of [N, ${a.shape}] and [N, ${b.shape}]: only equal leading axes are supported (no broadcasting)`);
  }
  const [M, K] = a.shape.slice(r - 2);
  if (b.shape[r - 2] !== K) im.fail(`MatMul of [N, ${a.shape}] and [N, ${b.shape}]: inner sizes ${K} and ${b.shape[r - 2]} differ`);
  const N = b.shape[r - 1];
  let bId = b.id, transB = false;
  const t = im.node(b.id);
  // only a transpose that moves the last (contiguous) axis: then the product reads B along it (kᵀ), while a head
  // split that keeps it (v) stays as it is
  if (t?.op === 'transpose' && t.attrs.perm && t.attrs.perm[r - 1] !== r - 1 && im.reads(b.id) === 1) {
    const p = [...t.attrs.perm];
    [p[r - 2], p[r - 1]] = [p[r - 1], p[r - 2]];
    const src = im.node(t.inputs[0])!;
    transB = true;
    if (p.every((v, i) => v === i)) bId = t.inputs[0];
    else {
      // the transpose now only splits the heads; the product reads its last two axes swapped
      t.attrs.perm = p;
      t.shape = p.map((i) => src.shape[i]);
    }
  }
  const id = im.uniqueId(base);
  const shape = [...a.shape.slice(0, r - 2), M, N];
  im.addNode(id, 'matmul', [a.id, bId], shape, { matmul: { k: K, transB } });
  set({ kind: 'tensor', id, shape });
}

/** The conv / linear producing x when x is read only by the Add at hand (its bias can take a constant). */
function biasTarget(im: ImportContext, x: TensorVal): GraphNode | null {
  const node = im.nodes.find((q) => q.id === x.id);
  // Every ONNX name of this IR value (Identity / Dropout aliases) together is read once: by this Add.
  if (!node || (node.op !== 'linear' && node.op !== 'conv2d') || im.reads(x.id) !== 1 || x.squeezed) return null;
  return node;
}

/** x + c where x is a conv / linear output read only here and c a per-output-channel constant: c joins the bias. */
export function foldBias(im: ImportContext, x: TensorVal, c: Float32Array, dims: number[]): void {
  const node = biasTarget(im, x);
  if (!node) im.fail('Add of a per-channel constant is only supported as the bias of the MatMul, Gemm or Conv right before it (no broadcasting adds)');
  // a linear's features are its last axis (tokens [T, F]); a conv's channels its first
  const outC = node.op === 'linear' ? node.shape[node.shape.length - 1] : node.shape[0];
  const lead = dims.length ? dims : [];
  // Accept [O], [1, O] for linear; [O, 1, 1], [1, O, 1, 1] for conv; or a single value.
  const ok = c.length === 1 || (c.length === outC && (node.op === 'linear'
    ? lead[lead.length - 1] === outC
    : lead.length >= 3 && lead[lead.length - 3] === outC));
  if (!ok) im.fail(`the added constant [${dims}] is not a per-channel bias of ${node.id} (${outC} channels)`);
  let bname = node.params.bias;
  if (!bname) {
    const wspec = im.params.find((p) => p.name === node.params.weight)!;
    bname = im.addParam(`${node.id}.bias`, new Float32Array(outC), [outC], 'bias_uniform', 'param', wspec.fanIn);
    node.params.bias = bname;
  }
  const b = im.host[bname];
  for (let o = 0; o < outC; o++) b[o] += c.length === 1 ? c[0] : c[o];
}
