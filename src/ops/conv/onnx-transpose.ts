/** ConvTranspose → conv_transpose2d: strides, symmetric pads, output_padding, groups, dilations. */
import type { Conv2dParams } from '../../engine/backend.ts';
import type { ImportContext, NodeIO } from '../../io/onnx/import/context.ts';
import { convTransposeOutSize } from '../../sim/int/conv-transpose.ts';

/** The ONNX weight [C_in, C_out / G, KH, KW] in the IR's conv-like layout [C_out, C_in / G, KH, KW]. */
export function weightToIr(w: Float32Array, cin: number, og: number, groups: number, khw: number): Float32Array {
  const cg = cin / groups;
  const out = new Float32Array(w.length);
  for (let i = 0; i < cin; i++) {
    const g = Math.floor(i / cg), ii = i % cg;
    for (let j = 0; j < og; j++) {
      const src = (i * og + j) * khw, dst = ((g * og + j) * cg + ii) * khw;
      out.set(w.subarray(src, src + khw), dst);
    }
  }
  return out;
}

export function importConvTranspose(im: ImportContext, { n, inputs, base, set }: NodeIO): void {
  const x = im.tensor(inputs[0]);
  if (x.shape.length !== 3) im.fail(`ConvTranspose input must be NCHW, has rank ${x.shape.length + 1}`);
  const wc = im.constant(inputs[1], 'weight');
  const w = im.floats(wc, 'weight');
  if (wc.dims.length !== 4) im.fail(`weight must be [C_in, C_out/group, kH, kW], has shape [${wc.dims}]`);
  const [Ci, Og, kh, kw] = wc.dims;
  const group = im.attrInt(n, 'group', 1);
  const [C, H, W] = x.shape;
  if (!(group >= 1) || Ci !== C || C % group || Og === 0 || kh === 0 || kw === 0) im.fail(`weight [${wc.dims}] with group ${group} does not fit ${C} input channels`);
  const ks = im.attrInts(n, 'kernel_shape');
  if (ks && (ks.length !== 2 || ks[0] !== kh || ks[1] !== kw)) im.fail(`kernel_shape [${ks}] disagrees with the weight [${wc.dims}]`);
  const autoPad = im.attrString(n, 'auto_pad', 'NOTSET');
  if (autoPad !== 'NOTSET') im.fail(`auto_pad ${autoPad} is not supported (give explicit pads)`);
  if (im.attrInts(n, 'output_shape')) im.fail('output_shape is not supported (give pads and output_padding)');
  const strides = im.pair(n, 'strides', 1);
  const dil = im.pair(n, 'dilations', 1);
  const pads = im.attrInts(n, 'pads') ?? [0, 0, 0, 0];
  if (pads.length !== 4 || pads[0] !== pads[2] || pads[1] !== pads[3] || pads.some((p) => p < 0)) im.fail(`pads [${pads}] are not supported (symmetric, non-negative only)`);
  const op = im.attrInts(n, 'output_padding') ?? [0, 0];
  if (op.length !== 2 || op.some((v, i) => v < 0 || v >= strides[i])) im.fail(`output_padding [${op}] must be two values below the strides [${strides}]`);
  const p: Conv2dParams = { strideH: strides[0], strideW: strides[1], padH: pads[0], padW: pads[1], dilationH: dil[0], dilationW: dil[1], groups: group };
  const O = Og * group;
  const oh = convTransposeOutSize(H, kh, p.strideH, p.padH, p.dilationH, op[0]);
  const ow = convTransposeOutSize(W, kw, p.strideW, p.padW, p.dilationW, op[1]);
  if (!(oh > 0 && ow > 0)) im.fail(`output would be empty (${oh}x${ow})`);
  const xid = im.materialize(x, base);
  const id = im.uniqueId(base);
  const fanIn = (C / group) * kh * kw;
  const params: Record<string, string> = {
    weight: im.addParam(`${id}.weight`, weightToIr(w, Ci, Og, group, kh * kw), [O, C / group, kh, kw], 'kaiming_uniform', 'param', fanIn),
  };
  if (inputs[2]) {
    const b = im.floats(im.constant(inputs[2], 'bias'), 'bias');
    if (b.length !== O) im.fail(`bias has ${b.length} values, the ConvTranspose ${O} output channels`);
    params.bias = im.addParam(`${id}.bias`, b.slice(), [O], 'bias_uniform', 'param', fanIn);
  }
  const attrs = { conv: p, ...(op[0] || op[1] ? { outputPadding: [op[0], op[1]] as [number, number] } : {}) };
  im.addNode(id, 'conv_transpose2d', [xid], [O, oh, ow], attrs, params);
  set({ kind: 'tensor', id, shape: [O, oh, ow] });
}
