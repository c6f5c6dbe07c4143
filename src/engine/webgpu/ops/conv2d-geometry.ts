/**
 * The geometry of a 2-D convolution and its uniform (`Params` in shaders/conv2d_common.wgsl), shared by
 * the generic kernels (conv2d.ts) and the depthwise ones (conv2d-depthwise.ts).
 */
import { conv2dOutShape, type Conv2dParams, type Shape } from '../../backend.ts';
import { i32 } from '../gpu-context.ts';

export interface Geometry {
  N: number; C: number; H: number; W: number;
  O: number; OH: number; OW: number; KH: number; KW: number;
  G: number; Cg: number; Og: number;
}

export function geometry(op: string, xShape: Shape, wShape: Shape, p: Conv2dParams): Geometry {
  if (xShape.length !== 4 || wShape.length !== 4) {
    throw new Error(`${op}: expected rank-4 x and w, got [${xShape}] and [${wShape}]`);
  }
  const [N, C, H, W] = xShape;
  const [O, Cg, KH, KW] = wShape;
  const G = p.groups;
  if (!(Number.isInteger(G) && G >= 1) || C % G !== 0 || O % G !== 0 || Cg !== C / G) {
    throw new Error(`${op}: x has ${C} channels, w is [${wShape}], groups ${G}`);
  }
  if (!(p.strideH >= 1 && p.strideW >= 1 && p.dilationH >= 1 && p.dilationW >= 1 && p.padH >= 0 && p.padW >= 0)) {
    throw new Error(`${op}: invalid params ${JSON.stringify(p)}`);
  }
  const [, , OH, OW] = conv2dOutShape(xShape, wShape, p);
  if (!(OH > 0 && OW > 0)) throw new Error(`${op}: empty output ${OH}x${OW} for x [${xShape}], w [${wShape}]`);
  return { N, C, H, W, O, OH, OW, KH, KW, G, Cg, Og: O / G };
}

/** The uniform, in the field order of `Params` in conv2d_common.wgsl. */
export function params(g: Geometry, p: Conv2dParams, CB: number, XB: number, QB: number, total: number, extra: number, S: number) {
  return [
    g.N, g.C, g.H, g.W, g.O, g.OH, g.OW, g.KH,
    g.KW, p.strideH, p.strideW, p.padH, p.padW, p.dilationH, p.dilationW, g.G,
    g.Cg, g.Og, CB, XB, QB, total, extra, S,
  ].map(i32);
}

export function checkTotal(op: string, total: number): void {
  if (total > 0x7fffffff) throw new Error(`${op}: ${total} invocations exceed the 32-bit index range`);
}

