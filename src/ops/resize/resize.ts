/**
 * resize_nearest / resize_linear: ONNX Resize over H and W (src/ops/resize/onnx.ts), the taps of
 * src/qmath/resize-taps.ts. Two IR ops because they quantize differently: nearest moves values (its output keeps
 * the input's scale), linear computes new ones (an activation site of its own, requantized in the simulator).
 * Kernels: Backend.resample2d (forward; the backward is the same kernel with the transposed tables).
 * int: the `resize` layer (src/ops/resize/lower.ts).
 */
import { resampleFn, tapsToAxis } from '../../engine/fns/resample.ts';
import { attrInt, attrString } from '../../io/onnx/attrs.ts';
import { DataType } from '../../io/onnx/proto-types.ts';
import { resizeTaps } from '../../qmath/resize-taps.ts';
import type { GraphNode } from '../../graph/ir.ts';
import type { OpDef, QdqCtx, TorchCtx } from '../types.ts';
import { torchExpr } from '../../io/torch/py.ts';
import { lowerResize } from './lower.ts';
import { importResize, importResizePre11 } from './onnx.ts';

const view = (n: GraphNode): string => {
  const a = n.attrs.resize;
  if (!a) return '';
  const by = a.bySizes ? `${a.outH}x${a.outW}` : `x${a.scaleH === a.scaleW ? a.scaleH : `${a.scaleH}x${a.scaleW}`}`;
  return `${by} ${a.coord}${a.mode === 'nearest' ? ` ${a.nearest}` : ''}`;
};

const forward: OpDef['forward'] = (tape, n, [x]) => {
  const [, , H, W] = x.shape;
  const t = resizeTaps(n.attrs.resize!, H, W);
  return tape.apply(resampleFn, [x], { rows: tapsToAxis(t.rows), cols: tapsToAxis(t.cols) });
};

/** ONNX Resize (opset 13): by the same scales, or by sizes built from Shape(x) (the batch is dynamic). */
function qdq(n: GraphNode, c: QdqCtx): string {
  const a = n.attrs.resize!;
  const attrs = [attrString('mode', a.mode), attrString('coordinate_transformation_mode', a.coord), attrString('nearest_mode', a.nearest)];
  if (!a.bySizes) {
    const scales = c.constF(`${n.id}.scales`, [4], Float32Array.of(1, 1, a.scaleH, a.scaleW));
    return c.emit('Resize', [c.inputs[0], '', scales], 'resize', attrs);
  }
  const shape = c.emit('Shape', [c.inputs[0]], 'shape');
  const nc = c.emit('Slice', [shape, c.constI(`${n.id}.s0`, [1], [0], DataType.INT64), c.constI(`${n.id}.s1`, [1], [2], DataType.INT64)], 'nc');
  const sizes = c.emit('Concat', [nc, c.constI(`${n.id}.hw`, [2], [a.outH, a.outW], DataType.INT64)], 'sizes', [attrInt('axis', 0)]);
  return c.emit('Resize', [c.inputs[0], '', '', sizes], 'resize', attrs);
}

/** F.interpolate for the Resize modes PyTorch itself exports; the others have no PyTorch call. */
function interpolate(n: GraphNode, c: TorchCtx): string {
  const a = n.attrs.resize!;
  const size = `size=(${a.outH}, ${a.outW})`;
  let mode = '';
  if (a.mode === 'nearest' && a.coord === 'asymmetric' && a.nearest === 'floor' && a.scaleH >= 1 && a.scaleW >= 1) mode = 'mode="nearest"';
  else if (a.mode === 'linear' && a.coord === 'align_corners') mode = 'mode="bilinear", align_corners=True';
  else if (a.mode === 'linear' && (a.coord === 'pytorch_half_pixel' || (a.coord === 'half_pixel' && a.outH > 1 && a.outW > 1))) mode = 'mode="bilinear", align_corners=False';
  else c.fail(`a ${a.mode} Resize with ${a.coord}${a.mode === 'nearest' ? ` / ${a.nearest}` : ''} has no torch.nn.functional.interpolate equivalent`);
  return `torch.nn.functional.interpolate(${c.xs[0]}, ${size}, ${mode})`;
}

const common = {
  inferShape: (n: GraphNode, [x]: number[][]) => [x[0], n.attrs.resize!.outH, n.attrs.resize!.outW],
  forward,
  fusion: {},
  int: { lower: lowerResize },
  qdq,
};

export const resizeNearestOp: OpDef = {
  type: 'resize_nearest',
  view: { label: 'Upsample (nearest)', attrs: view },
  // the importer makes a resize_nearest or a resize_linear node by the mode
  onnx: { Resize: importResize, Upsample: importResizePre11 },
  ...common,
  macs: () => 0,
  quant: { output: 'inherit' },
  torch: torchExpr(interpolate, false),
};

export const resizeLinearOp: OpDef = {
  type: 'resize_linear',
  view: { label: 'Resize (bilinear)', attrs: view },
  onnx: {},
  ...common,
  // four multiply-adds per output element
  macs: (n) => 4 * n.shape[0] * n.shape[1] * n.shape[2],
  quant: { output: 'site' },
  torch: torchExpr(interpolate, true),
};
