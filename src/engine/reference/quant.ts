/**
 * Quantization ops of the CPU backend over packed qparams [C, 3] = [scale, inv, zp] (the layout the
 * WGSL kernels read), built on the bit-exact fake-quant reference of src/quant.
 */
import type { ChannelLayout, QParamsUpdate, QuantRange } from '../backend.ts';
import { biasQParams } from '../../qmath/bias.ts';
import { quantizeValue } from '../../qmath/fake-quantize.ts';
import { BERNOULLI_MAX_SHIFT, BERNOULLI_MIN_SHIFT, floorNegLog2 } from '../../qmath/march.ts';

const f32 = Math.fround;

function forEachChannel(layout: ChannelLayout, f: (c: number, start: number, end: number) => void): void {
  const { outer, channels, inner } = layout;
  for (let o = 0; o < outer; o++) {
    for (let c = 0; c < channels; c++) {
      const start = (o * channels + c) * inner;
      f(c, start, start + inner);
    }
  }
}

function qval(x: number, qp: Float32Array, c: number, range: QuantRange): number {
  return quantizeValue(f32(x), qp[3 * c + 1], qp[3 * c + 2], range.rounding ?? 'half_even');
}

export function fakeQuantizePacked(x: Float32Array, qp: Float32Array, layout: ChannelLayout, range: QuantRange): Float32Array {
  const out = new Float32Array(x.length);
  forEachChannel(layout, (c, start, end) => {
    const scale = qp[3 * c], zp = qp[3 * c + 2];
    for (let i = start; i < end; i++) {
      const q = Math.min(range.quantMax, Math.max(range.quantMin, qval(x[i], qp, c, range)));
      out[i] = f32((q - zp) * scale);
    }
  });
  return out;
}

export function fakeQuantizePackedBackward(dy: Float32Array, x: Float32Array, qp: Float32Array, layout: ChannelLayout,
  range: QuantRange): Float32Array {
  const out = new Float32Array(x.length);
  forEachChannel(layout, (c, start, end) => {
    for (let i = start; i < end; i++) {
      const q = qval(x[i], qp, c, range);
      out[i] = q >= range.quantMin && q <= range.quantMax ? dy[i] : 0;
    }
  });
  return out;
}

export function minMax(x: Float32Array, layout: ChannelLayout): [Float32Array, Float32Array] {
  const mn = new Float32Array(layout.channels).fill(Infinity);
  const mx = new Float32Array(layout.channels).fill(-Infinity);
  forEachChannel(layout, (c, start, end) => {
    for (let i = start; i < end; i++) {
      const v = x[i];
      if (v < mn[c]) mn[c] = v;
      if (v > mx[c]) mx[c] = v;
    }
  });
  return [mn, mx];
}

/** The CPU twin of shaders/qparams.wgsl (float32 at every step). */
export function updateQParams(running: Float32Array, bmin: Float32Array, bmax: Float32Array, qp: Float32Array, u: QParamsUpdate): void {
  const C = bmin.length;
  const half = f32((u.quantMax - u.quantMin) / 2);
  for (let c = 0; c < C; c++) {
    let rmin = running[c], rmax = running[C + c];
    if (u.first) {
      rmin = bmin[c];
      rmax = bmax[c];
    } else if (u.averagingConstant !== 0) {
      rmin = f32(rmin + f32(f32(u.averagingConstant) * f32(bmin[c] - rmin)));
      rmax = f32(rmax + f32(f32(u.averagingConstant) * f32(bmax[c] - rmax)));
    }
    running[c] = rmin;
    running[C + c] = rmax;
    const amax = Math.max(-Math.min(rmin, 0), Math.max(rmax, 0));
    let scale = Math.max(f32(amax / half), f32(u.eps));
    if (u.powerOfTwo) scale = 2 ** -Math.min(BERNOULLI_MAX_SHIFT, Math.max(BERNOULLI_MIN_SHIFT, floorNegLog2(scale)));
    qp[3 * c] = scale;
    qp[3 * c + 1] = f32(1 / scale);
    qp[3 * c + 2] = 0;
  }
}

/** The CPU twin of shaders/qparams.wgsl `bias`: packed input qparams [1, 3] and weight qparams [C, 3] -> [C, 3]. */
export function biasQParamsPacked(xq: Float32Array, wq: Float32Array): Float32Array {
  return biasQParams(xq[0], Array.from({ length: wq.length / 3 }, (_, c) => wq[3 * c]));
}
