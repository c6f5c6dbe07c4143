/**
 * ONNX Resize (opsets 11 and 13 forms), and the older forms Upsample-9 and Resize-10 (a scales input) → resize_nearest / resize_linear over H and W of an NCHW value. Scales or sizes must be constants; PyTorch's Shape → Gather → ... → Concat sizes subgraph has been
 * folded already (src/io/onnx/import/fold.ts), its batch element marked.
 */
import type { ImportContext, NodeIO } from '../../io/onnx/import/context.ts';
import type { ConstVal } from '../../io/onnx/import/values.ts';
import { COORD_MODES, NEAREST_MODES, scaledSize, type CoordMode, type NearestMode, type ResizeAttrs } from '../../qmath/resize-taps.ts';

const f = Math.fround;

/** A constant input that may be left out ("" or an empty tensor). */
function optionalConst(im: ImportContext, name: string | undefined, what: string) {
  if (!name) return undefined;
  const c = im.constant(name, what);
  return c.data.length ? c : undefined;
}

export function importResize(im: ImportContext, io: NodeIO): void {
  if (im.opset < 11) return importResizePre11(im, io);
  const { n, inputs } = io;
  const x = im.tensor(inputs[0]);
  if (x.shape.length !== 3) im.fail(`input must be NCHW, has per-sample shape [${x.shape}]`);
  const modeName = im.attrString(n, 'mode', 'nearest');
  if (modeName !== 'nearest' && modeName !== 'linear') im.fail(`mode "${modeName}" is not supported (nearest and linear are)`);
  const mode = modeName;
  const cm = im.attrString(n, 'coordinate_transformation_mode', 'half_pixel');
  if (!(COORD_MODES as readonly string[]).includes(cm)) im.fail(`coordinate_transformation_mode "${cm}" is not supported (supported: ${COORD_MODES.join(', ')})`);
  const coord = cm as CoordMode;
  const nm = im.attrString(n, 'nearest_mode', 'round_prefer_floor');
  if (!(NEAREST_MODES as readonly string[]).includes(nm)) im.fail(`nearest_mode "${nm}" is not supported`);
  const nearest = nm as NearestMode;
  if (im.attrInt(n, 'antialias', 0) !== 0) im.fail('antialias=1 is not supported');
  const axes = im.attrInts(n, 'axes');
  if (axes && axes.length) im.fail(`axes [${axes}] are not supported; give scales or sizes for all four dimensions`);
  const policy = im.attrString(n, 'keep_aspect_ratio_policy', 'stretch');
  if (policy !== 'stretch') im.fail(`keep_aspect_ratio_policy "${policy}" is not supported`);
  addResize(im, io, mode, coord, nearest, optionalConst(im, inputs[2], 'scales'), optionalConst(im, inputs[3], 'sizes'));
}

/**
 * Upsample-9 and Resize-10: no coordinate attributes; their coordinates are asymmetric (x_in = x_out / scale)
 * and nearest rounds down (onnxruntime's "simple" mode: floor when upsampling, ceil when downsampling; downsampling by
 * nearest is refused here rather than modelled). Upsample was deprecated at opset 10, and Resize-10 replaced it.
 */
export function importResizePre11(im: ImportContext, io: NodeIO): void {
  const { n, op, inputs } = io;
  if (op === 'Upsample' && im.opset >= 10) im.fail(`Upsample is deprecated from opset 10 (this file declares opset ${im.opset}); Resize replaced it`);
  if (op === 'Resize' && im.opset >= 11) im.fail('internal: Resize-11+ reached the pre-11 importer');
  const modeName = im.attrString(n, 'mode', 'nearest');
  if (modeName !== 'nearest' && modeName !== 'linear') im.fail(`mode "${modeName}" is not supported (nearest and linear are)`);
  // Upsample-7's scales attribute is below the importer's MIN_OPSET (9); from 9 both take a scales input.
  const sc = optionalConst(im, inputs[1], 'scales') ?? im.fail('the scales input is missing or empty');
  const s = im.floats(sc, 'scales');
  if (modeName === 'nearest' && Array.from(s).some((v) => v < 1)) im.fail(`nearest downsampling (scales [${Array.from(s)}]) before opset 11 is not supported`);
  addResize(im, io, modeName, 'asymmetric', 'floor', sc, undefined);
}

function addResize(im: ImportContext, { inputs, base, set }: NodeIO, mode: 'nearest' | 'linear', coord: CoordMode, nearest: NearestMode, sc: ConstVal | undefined, sz: ConstVal | undefined): void {
  const x = im.tensor(inputs[0]);
  if (x.shape.length !== 3) im.fail(`input must be NCHW, has per-sample shape [${x.shape}]`);
  const [C, H, W] = x.shape;
  if (sc && sz) im.fail('both scales and sizes are given; ONNX allows only one');
  if (!sc && !sz) im.fail('neither scales nor sizes is given');
  let scales: number[] | undefined;
  let sizes: number[] | undefined;
  if (sc) scales = Array.from(im.floats(sc, 'scales'));
  else {
    if (sz!.data instanceof Float32Array) im.fail('sizes must be an integer tensor');
    // the batch element may come from Shape(x) (marked by the fold); the others must be fixed numbers
    if (sz!.batch?.slice(1).some((b) => b)) im.fail('sizes of the channel, height or width depend on the batch size');
    sizes = sz!.data;
  }
  let attrs: ResizeAttrs;
  if (scales) {
    if (scales.length !== 4) im.fail(`scales must have 4 values (N, C, H, W), has ${scales.length}`);
    if (scales[0] !== 1 || scales[1] !== 1) im.fail(`only H and W can be resized; scales are [${scales}]`);
    if (!(scales[2] > 0 && scales[3] > 0)) im.fail(`scales must be positive, got [${scales}]`);
    attrs = { mode, coord, nearest, outH: scaledSize(H, scales[2]), outW: scaledSize(W, scales[3]), scaleH: f(scales[2]), scaleW: f(scales[3]) };
  } else {
    const s = sizes!;
    if (s.length !== 4) im.fail(`sizes must have 4 values (N, C, H, W), has ${s.length}`);
    if (s[1] !== C) im.fail(`only H and W can be resized; sizes ask for ${s[1]} channels of ${C}`);
    attrs = { mode, coord, nearest, outH: s[2], outW: s[3], scaleH: f(f(s[2]) / f(H)), scaleW: f(f(s[3]) / f(W)), bySizes: true };
  }
  if (!(Number.isSafeInteger(attrs.outH) && Number.isSafeInteger(attrs.outW) && attrs.outH >= 1 && attrs.outW >= 1)) {
    im.fail(`output size ${attrs.outH}x${attrs.outW} is empty or invalid`);
  }
  if (attrs.outH * attrs.outW > 2 ** 24) im.fail(`output size ${attrs.outH}x${attrs.outW} is too large`);
  const xid = im.materialize(x, base);
  const id = im.uniqueId(base);
  im.addNode(id, mode === 'nearest' ? 'resize_nearest' : 'resize_linear', [xid], [C, attrs.outH, attrs.outW], { resize: attrs });
  set({ kind: 'tensor', id, shape: [C, attrs.outH, attrs.outW] });
}
