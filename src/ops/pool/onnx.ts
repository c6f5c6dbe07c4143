/** GlobalAveragePool, ReduceMean over H and W, AveragePool (a folded zero Pad, count_include_pad, ceil_mode) and MaxPool. */
import { tryLayerNormPattern } from '../norm/onnx.ts';
import { tryTokenMean } from '../shape/onnx-tokens.ts';
import type { Pool2dParams } from '../../engine/backend.ts';
import { poolOutSize } from '../../qmath/pool-window.ts';
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

/**
 * AveragePool / MaxPool → avgpool2d / maxpool2d with symmetric padding, ceil_mode, and count_include_pad
 * (a folded zero Pad's zeros are real elements: they always count in the divisor).
 */
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
  const ceil = im.attrInt(n, 'ceil_mode', 0);
  if (ceil !== 0 && ceil !== 1) im.fail(`ceil_mode must be 0 or 1, got ${ceil}`);
  const p: Pool2dParams = { kernelH: k[0], kernelW: k[1], strideH: strides[0], strideW: strides[1], padH, padW };
  if (ceil) p.ceilMode = true;
  if (!max) {
    const include = im.attrInt(n, 'count_include_pad', 0);
    if (include !== 0 && include !== 1) im.fail(`count_include_pad must be 0 or 1, got ${include}`);
    const ownPadded = im.rawPads(n, [H, W], k, strides, [1, 1]).some((v) => v !== 0);
    const folded = (extra ?? []).some((v) => v !== 0);
    if (ownPadded && folded && include === 0) {
      im.fail('AveragePool after a Pad, with padding of its own and count_include_pad=0, is not supported (the Pad\'s zeros count in the average, its own padding would not)');
    }
    // Padding of its own that does not count: the divisor is the number of real elements in each window.
    if (ownPadded && include === 0) p.countIncludePad = false;
  }
  if (2 * padH > k[0] || 2 * padW > k[1]) im.fail(`padding ${padH}x${padW} exceeds half the kernel ${k[0]}x${k[1]}`);
  const oh = poolOutSize(H, k[0], p.strideH, padH, p.ceilMode), ow = poolOutSize(W, k[1], p.strideW, padW, p.ceilMode);
  if (!(oh > 0 && ow > 0)) im.fail(`output would be empty (${oh}x${ow})`);
  const id = im.uniqueId(base);
  im.addNode(id, max ? 'maxpool2d' : 'avgpool2d', [xid], [C, oh, ow], { pool: p });
  set({ kind: 'tensor', id, shape: [C, oh, ow] });
}

/**
 * ReduceMean over H and W of an NCHW value → global_avgpool (MnasNet's and EfficientNet's head: x.mean([2, 3])).
 * keepdims=1 gives [C, 1, 1] (the value is marked squeezed, as GlobalAveragePool's), keepdims=0 gives [C].
 */
export function importReduceMean(im: ImportContext, io: NodeIO): void {
  // over the last axis: a LayerNorm's; over the tokens of [T, D]: mean pooling
  if (tryLayerNormPattern(im, io) || tryTokenMean(im, io)) return;
  const { n, inputs, base, set } = io;
  const x = im.tensor(inputs[0]);
  if (x.shape.length !== 3) im.fail(`ReduceMean is supported over H and W of an NCHW tensor, over the tokens of a [N, T, D] tensor, or inside a LayerNorm; the input has per-sample shape [${x.shape}]`);
  const axes = im.opset >= 18 ? (inputs[1] ? im.ints(im.constant(inputs[1], 'axes'), 'axes') : undefined) : im.attrInts(n, 'axes');
  if (!axes) im.fail('ReduceMean over all axes (no axes given) is not supported; only over H and W (axes [2, 3])');
  const norm = [...new Set(axes.map((a) => (a < 0 ? a + 4 : a)))].sort();
  if (norm.length !== 2 || norm[0] !== 2 || norm[1] !== 3) im.fail(`ReduceMean over axes [${axes}] is not supported; only over H and W (axes [2, 3])`);
  const keep = im.attrInt(n, 'keepdims', 1);
  if (keep !== 0 && keep !== 1) im.fail(`keepdims must be 0 or 1, got ${keep}`);
  const xid = im.materialize(x, base);
  const id = im.uniqueId(base);
  im.addNode(id, 'global_avgpool', [xid], [x.shape[0]]);
  set(keep ? { kind: 'tensor', id, shape: [x.shape[0], 1, 1], squeezed: true } : { kind: 'tensor', id, shape: [x.shape[0]] });
}
