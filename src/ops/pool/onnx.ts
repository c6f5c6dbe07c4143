/** GlobalAveragePool, AveragePool (a folded zero Pad, count_include_pad) and MaxPool. */
import { outSize, type Pool2dParams } from '../../engine/backend.ts';
import type { ImportContext, NodeIO } from '../../io/onnx/import/context.ts';

/** GlobalAveragePool → global_avgpool: [C] in the IR, [C, 1, 1] in ONNX (the value is marked squeezed). */
export function importGlobalAvgPool(im: ImportContext, { inputs, base, set }: NodeIO): void {
  const x = im.tensor(inputs[0]);
  if (x.shape.length !== 3) im.fail(`input must be NCHW, has per-sample shape [${x.shape}]`);
  const xid = im.materialize(x, base);
  const id = im.uniqueId(base);
  im.addNode(id, 'global_avgpool', [xid], [x.shape[0]]);
  set({ kind: 'tensor', id, shape: [x.shape[0], 1, 1], squeezed: true });
}

/** AveragePool / MaxPool → avgpool2d / maxpool2d with symmetric padding. */
export function importPool(im: ImportContext, { n, op, inputs, base, set }: NodeIO): void {
  const max = op === 'MaxPool';
  if (max) im.onlyFirstOutput(n, 'the indices output');
  const { v: x, extra } = max ? { v: im.tensor(inputs[0]), extra: undefined } : im.paddedInput(inputs[0]);
  if (x.shape.length !== 3) im.fail(`input must be NCHW, has per-sample shape [${x.shape}]`);
  const xid = im.materialize(x, base);
  const k = im.attrInts(n, 'kernel_shape');
  if (!k || k.length !== 2 || k.some((v) => !Number.isSafeInteger(v) || v < 1)) im.fail(`kernel_shape must be two positive integers, got [${k ?? ''}]`);
  const strides = im.pair(n, 'strides', 1);
  const dil = im.pair(n, 'dilations', 1);
  if (dil[0] !== 1 || dil[1] !== 1) im.fail(`pooling dilations [${dil}] are not supported`);
  const [C, H, W] = x.shape;
  const [padH, padW] = im.spatialPads(n, [H, W], k, strides, [1, 1], extra);
  const ownPadded = im.rawPads(n, [H, W], k, strides, [1, 1]).some((v) => v !== 0);
  if (!max && ownPadded && im.attrInt(n, 'count_include_pad', 0) === 0) {
    im.fail('AveragePool with padding and count_include_pad=0 is not supported (the engine divides by the full kernel area, like PyTorch\'s default)');
  }
  if (2 * padH > k[0] || 2 * padW > k[1]) im.fail(`padding ${padH}x${padW} exceeds half the kernel ${k[0]}x${k[1]}`);
  const p: Pool2dParams = { kernelH: k[0], kernelW: k[1], strideH: strides[0], strideW: strides[1], padH, padW };
  const oh = outSize(H, k[0], p.strideH, padH), ow = outSize(W, k[1], p.strideW, padW);
  if (!(oh > 0 && ow > 0)) im.fail(`output would be empty (${oh}x${ow})`);
  if (im.attrInt(n, 'ceil_mode', 0)) {
    const ceil = (i: number, kk: number, s: number, pd: number) => Math.ceil((i + 2 * pd - kk) / s) + 1;
    if (ceil(H, k[0], strides[0], padH) !== oh || ceil(W, k[1], strides[1], padW) !== ow) im.fail('ceil_mode=1 changes the output size here; it is not supported');
  }
  const id = im.uniqueId(base);
  im.addNode(id, max ? 'maxpool2d' : 'avgpool2d', [xid], [C, oh, ow], { pool: p });
  set({ kind: 'tensor', id, shape: [C, oh, ow] });
}
