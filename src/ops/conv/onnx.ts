/** Conv (group, dilations, strides, pads, auto_pad, a folded zero Pad), BatchNormalization (inference), Pad. */
import { outSize, type Conv2dParams } from '../../engine/backend.ts';
import type { ImportContext, NodeIO } from '../../io/onnx/import/context.ts';

/** Conv → conv2d (weights and bias copied; a zero Pad before it joins its padding). */
export function importConv(im: ImportContext, { n, inputs, base, set }: NodeIO): void {
  const { v: x, extra } = im.paddedInput(inputs[0]);
  if (x.shape.length !== 3) im.fail(`Conv input must be NCHW, has rank ${x.shape.length + 1}`);
  const xid = im.materialize(x, base);
  const wc = im.constant(inputs[1], 'weight');
  const w = im.floats(wc, 'weight');
  if (wc.dims.length !== 4) im.fail(`weight must be [O, C/group, kH, kW], has shape [${wc.dims}]`);
  const [O, Cg, kh, kw] = wc.dims;
  const group = im.attrInt(n, 'group', 1);
  const [C, H, W] = x.shape;
  if (!(group >= 1) || C % group || O % group || Cg * group !== C || O === 0 || kh === 0 || kw === 0) {
    im.fail(`weight [${wc.dims}] with group ${group} does not fit ${C} input channels`);
  }
  const ks = im.attrInts(n, 'kernel_shape');
  if (ks && (ks.length !== 2 || ks[0] !== kh || ks[1] !== kw)) im.fail(`kernel_shape [${ks}] disagrees with the weight [${wc.dims}]`);
  const strides = im.pair(n, 'strides', 1);
  const dil = im.pair(n, 'dilations', 1);
  const [padH, padW] = im.spatialPads(n, [H, W], [kh, kw], strides, dil, extra);
  const p: Conv2dParams = { strideH: strides[0], strideW: strides[1], padH, padW, dilationH: dil[0], dilationW: dil[1], groups: group };
  const oh = outSize(H, kh, p.strideH, padH, p.dilationH), ow = outSize(W, kw, p.strideW, padW, p.dilationW);
  if (!(oh > 0 && ow > 0)) im.fail(`output would be empty (${oh}x${ow})`);
  const id = im.uniqueId(base);
  const fanIn = Cg * kh * kw;
  const params: Record<string, string> = { weight: im.addParam(`${id}.weight`, w.slice(), [O, Cg, kh, kw], 'kaiming_uniform', 'param', fanIn) };
  if (inputs[2]) {
    const b = im.floats(im.constant(inputs[2], 'bias'), 'bias');
    if (b.length !== O) im.fail(`bias has ${b.length} values, the conv ${O} output channels`);
    params.bias = im.addParam(`${id}.bias`, b.slice(), [O], 'bias_uniform', 'param', fanIn);
  }
  im.addNode(id, 'conv2d', [xid], [O, oh, ow], { conv: p }, params);
  set({ kind: 'tensor', id, shape: [O, oh, ow] });
}

/** BatchNormalization (eval mode) → batchnorm2d with its running statistics as buffers. */
export function importBatchNorm(im: ImportContext, { n, inputs, base, set }: NodeIO): void {
  im.onlyFirstOutput(n, 'the running statistics outputs (training mode)');
  if (im.attrInt(n, 'training_mode', 0) !== 0) im.fail('training_mode=1 is not supported (export the model in eval mode)');
  const x = im.tensor(inputs[0]);
  const xid = im.materialize(x, base);
  const c = x.shape[0];
  if (x.shape.length !== 3 && x.shape.length !== 1) im.fail(`input must be [N, C, H, W] or [N, C], has rank ${x.shape.length + 1}`);
  const roles = ['weight', 'bias', 'running_mean', 'running_var'] as const;
  const names = ['scale', 'B', 'input_mean', 'input_var'];
  const id = im.uniqueId(base);
  const params: Record<string, string> = {};
  roles.forEach((role, i) => {
    const t = im.floats(im.constant(inputs[i + 1], names[i]), names[i]);
    if (t.length !== c) im.fail(`${names[i]} has ${t.length} values for ${c} channels`);
    params[role] = im.addParam(`${id}.${role}`, t.slice(), [c], i === 0 || i === 3 ? 'ones' : 'zeros', i >= 2 ? 'buffer' : 'param');
  });
  const eps = im.attrFloat(n, 'epsilon', 1e-5);
  const momentum = 1 - im.attrFloat(n, 'momentum', 0.9);
  if (!(eps >= 0)) im.fail(`epsilon ${eps} is invalid`);
  im.addNode(id, 'batchnorm2d', [xid], [...x.shape], { eps, momentum: Number.isFinite(momentum) ? momentum : 0.1 }, params);
  set({ kind: 'tensor', id, shape: [...x.shape] });
}

/** Pad: zero spatial padding, kept aside and folded into the Conv / AveragePool that reads it. */
export function importPad(im: ImportContext, { n, inputs, out, alias }: NodeIO): void {
  const mode = im.attrString(n, 'mode', 'constant');
  if (mode !== 'constant') im.fail(`Pad mode "${mode}" is not supported (only constant zero padding)`);
  const pads = im.opset >= 11 ? im.ints(im.constant(inputs[1], 'pads'), 'pads') : im.attrInts(n, 'pads') ?? [];
  const value = im.opset >= 11 ? (inputs[2] ? im.scalar(inputs[2], 'constant_value') : 0) : im.attrFloat(n, 'value', 0);
  if (inputs[3]) im.fail('Pad with axes is not supported');
  const x = im.tensor(inputs[0]);
  if (x.shape.length !== 3 || pads.length !== 8) im.fail(`Pad of a rank-${x.shape.length + 1} tensor with ${pads.length} pads; only NCHW spatial padding is supported`);
  if (pads[0] || pads[1] || pads[4] || pads[5]) im.fail('Pad on the batch or channel dimension is not supported');
  if (pads.some((p) => p < 0)) im.fail('negative Pad (cropping) is not supported');
  const extra = [pads[2], pads[3], pads[6], pads[7]];
  if (extra.every((p) => p === 0)) { alias(inputs[0]); return; }
  if (value !== 0) im.fail(`Pad with value ${value} is not supported (only zero padding)`);
  im.pads.set(out, { src: inputs[0], pads: extra });
}
