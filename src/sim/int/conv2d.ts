/**
 * Integer conv2d of the fixed-point simulator.
 * NCHW activations (int8 / uint8 / int16) with a zero point, OIHW int8 weights (I = C / groups, symmetric per
 * output channel, zero point 0), int32 bias at scale x_scale * w_scale[o], stride / padding / dilation / groups
 * (depthwise = groups == C). Accumulation in int32 (wrapping like int32 hardware), then per-output-channel
 * requantization (requant.ts), fused relu / relu6 as a clamp given in OutputSpec.
 *
 * Integer-only datapath: inputs are checked to be integer typed arrays; no float is used here (padding contributes
 * (x_zp - x_zp) = 0, i.e. the input is padded with its zero point).
 */
import { assertIntArray, requantize, type IntArray, type OutputSpec, type RequantSpec } from './requant.ts';

export type Pair = number | readonly [number, number];

export interface Conv2dGeometry {
  stride?: Pair;
  padding?: Pair;
  dilation?: Pair;
  groups?: number;
}

export interface QConv2dInput {
  x: Int8Array | Uint8Array | Int16Array;
  xShape: readonly [number, number, number, number];
  xZeroPoint: number;
  w: Int8Array;
  wShape: readonly [number, number, number, number];
  bias?: Int32Array | null;
}

export function pair(p: Pair | undefined, dflt: number): [number, number] {
  if (p === undefined) return [dflt, dflt];
  return typeof p === 'number' ? [p, p] : [p[0], p[1]];
}

export function conv2dOutShape(input: QConv2dInput, geom: Conv2dGeometry): [number, number, number, number] {
  const [n, , h, w] = input.xShape;
  const [o, , kh, kw] = input.wShape;
  const [sh, sw] = pair(geom.stride, 1);
  const [ph, pw] = pair(geom.padding, 0);
  const [dh, dw] = pair(geom.dilation, 1);
  const oh = Math.floor((h + 2 * ph - dh * (kh - 1) - 1) / sh) + 1;
  const ow = Math.floor((w + 2 * pw - dw * (kw - 1) - 1) / sw) + 1;
  return [n, o, oh, ow];
}

/** int32 accumulator: acc[n,o,y,x] = sum (x_q - x_zp) * w_q + bias[o]. */
export function conv2dAccumulate(
  input: QConv2dInput,
  geom: Conv2dGeometry = {},
): { acc: Int32Array; shape: [number, number, number, number] } {
  const { x, w, xZeroPoint: zp } = input;
  assertIntArray('conv2d x', x);
  assertIntArray('conv2d w', w);
  if (input.bias != null) assertIntArray('conv2d bias', input.bias);
  if (!Number.isInteger(zp)) throw new TypeError('conv2d x zero point must be an integer');
  const [N, C, H, W] = input.xShape;
  const [O, I, KH, KW] = input.wShape;
  const groups = geom.groups ?? 1;
  if (C % groups !== 0 || O % groups !== 0 || I !== C / groups) {
    throw new RangeError(`conv2d: C=${C}, O=${O}, I=${I} incompatible with groups=${groups}`);
  }
  if (x.length !== N * C * H * W) throw new RangeError('conv2d: x length != product of xShape');
  if (w.length !== O * I * KH * KW) throw new RangeError('conv2d: w length != product of wShape');
  if (input.bias != null && input.bias.length !== O) throw new RangeError('conv2d: bias length != O');
  const [sh, sw] = pair(geom.stride, 1);
  const [ph, pw] = pair(geom.padding, 0);
  const [dh, dw] = pair(geom.dilation, 1);
  const shape = conv2dOutShape(input, geom);
  const [, , OH, OW] = shape;
  if (OH <= 0 || OW <= 0) throw new RangeError('conv2d: empty output');

  // Centered input (x - zp), integers.
  const xc = new Int32Array(x.length);
  for (let i = 0; i < x.length; i++) xc[i] = x[i] - zp;

  const acc = new Int32Array(N * O * OH * OW);
  const opg = O / groups;
  const hw = H * W;
  for (let n = 0; n < N; n++) {
    for (let o = 0; o < O; o++) {
      const g = Math.floor(o / opg);
      const b = input.bias != null ? input.bias[o] : 0;
      const outBase = (n * O + o) * OH * OW;
      const wBase = o * I * KH * KW;
      const xBase = (n * C + g * I) * hw;
      for (let oy = 0; oy < OH; oy++) {
        const iy0 = oy * sh - ph;
        for (let ox = 0; ox < OW; ox++) {
          const ix0 = ox * sw - pw;
          let s = 0;
          for (let i = 0; i < I; i++) {
            const xPlane = xBase + i * hw;
            const wPlane = wBase + i * KH * KW;
            for (let ky = 0; ky < KH; ky++) {
              const iy = iy0 + ky * dh;
              if (iy < 0 || iy >= H) continue; // padding: (x_zp - x_zp) * w = 0
              const xRow = xPlane + iy * W;
              const wRow = wPlane + ky * KW;
              for (let kx = 0; kx < KW; kx++) {
                const ix = ix0 + kx * dw;
                if (ix < 0 || ix >= W) continue;
                s = (s + Math.imul(xc[xRow + ix], w[wRow + kx])) | 0; // int32 wrap-around
              }
            }
          }
          acc[outBase + oy * OW + ox] = (s + b) | 0;
        }
      }
    }
  }
  return { acc, shape };
}

/**
 * Quantized conv2d: int32 accumulation then per-output-channel requantization to `out.dtype`.
 * With out.dtype 'int32' the accumulator is returned as is (high-precision output, scale x_scale * w_scale[o]).
 */
export function conv2dInt(
  input: QConv2dInput,
  geom: Conv2dGeometry,
  requant: RequantSpec | null,
  out: OutputSpec,
): { data: IntArray; shape: [number, number, number, number] } {
  const { acc, shape } = conv2dAccumulate(input, geom);
  const data = requantize(acc, requant, out, { channels: shape[1], inner: shape[2] * shape[3] });
  return { data, shape };
}
