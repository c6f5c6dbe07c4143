/** Gemm, MatMul (+ a following Add of a constant folded into the bias), and Add. */
import type { ConstVal, TensorVal } from '../../io/onnx/import/values.ts';
import { prod } from '../../io/onnx/import/values.ts';
import type { GraphNode } from '../../graph/ir.ts';
import type { ImportContext, NodeIO } from '../../io/onnx/import/context.ts';
import { affineOf } from '../eltwise/onnx.ts';

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

/** MatMul by a constant [in, out] → linear without bias (an Add after it becomes the bias). */
export function importMatMul(im: ImportContext, { inputs, base, set }: NodeIO): void {
  const x = im.tensor(inputs[0]);
  if (x.shape.length !== 1 && !x.squeezed) im.fail(`MatMul input must be [N, features], has per-sample shape [${x.shape}]`);
  const bc = im.constant(inputs[1], 'B (the weight)');
  const B = im.floats(bc, 'B');
  const inF = prod(x.shape);
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
  foldBias(im, t, cf, c.dims);
  set(t);
}

/** A linear node on x (per-sample [F], or a GlobalAveragePool's [C, 1, 1] that is [C] in the IR). */
export function linear(im: ImportContext, base: string, x: TensorVal, w: Float32Array, outF: number, inF: number, bias: Float32Array | null): TensorVal {
  const id = im.uniqueId(base);
  const params: Record<string, string> = { weight: im.addParam(`${id}.weight`, w, [outF, inF], 'kaiming_uniform', 'param', inF) };
  if (bias) params.bias = im.addParam(`${id}.bias`, bias, [outF], 'bias_uniform', 'param', inF);
  im.addNode(id, 'linear', [x.id], [outF], {}, params);
  return { kind: 'tensor', id, shape: [outF] };
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
  const outC = node.shape[0];
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
