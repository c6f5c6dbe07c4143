/**
 * WebGPU observer statistics (shaders/observer.wgsl): per-tensor / per-channel min and max (two-level
 * reductions over 256-lane workgroups, exact for every float32 including subnormals, NaN ignored) and the
 * torch.histc histogram the calibration observers build.
 *
 * Results are GpuTensors for the caller to read back (or to keep on the GPU).
 */
import code from '../../../../shaders/observer.wgsl';
import { f32, u32, type GpuContext, type GpuTensor, type ParamValue } from '../gpu-context.ts';
import { type ChannelLayout, axisLayout, perTensorLayout } from './fake-quant.ts';

const F = Math.fround;
const F32_MAX = 3.4028234663852886e38;
/** Bins up to this many use a workgroup-private histogram (shaders/observer.wgsl LOCAL_BINS). */
const LOCAL_BINS = 2048;
const MAX_GROUPS = 65535;

interface ObsParams {
  n: number; channels?: number; inner?: number; count?: number; slices?: number;
  bins?: number; lo?: number; hi?: number; width?: number;
}

function params(o: ObsParams): ParamValue[] {
  return [
    u32(o.n), u32(o.channels ?? 1), u32(o.inner ?? 1), u32(o.count ?? 0), u32(o.slices ?? 1), u32(o.bins ?? 0),
    f32(o.lo ?? 0), f32(o.hi ?? 0), f32(o.width ?? 0), u32(0), u32(0), u32(0),
  ];
}

/**
 * [min, max] of x (per tensor: two [1] tensors) or per channel of `layout` (two [C] tensors). NaN is skipped;
 * an empty / all-NaN channel gives [+inf, -inf] (like the CPU `aminmax`).
 */
export function minMax(ctx: GpuContext, x: GpuTensor, layout: ChannelLayout = perTensorLayout(x.size)): [GpuTensor, GpuTensor] {
  const { outer, channels, inner } = layout;
  if (outer * channels * inner !== x.size) {
    throw new Error(`minMax: layout ${outer}x${channels}x${inner} does not match [${x.shape}]`);
  }
  if (channels > MAX_GROUPS) throw new Error(`minMax: ${channels} channels (at most ${MAX_GROUPS})`);
  const count = outer * inner;
  // enough workgroups to keep every lane busy on a few elements; at most 256 partials per channel
  const slices = Math.max(1, Math.min(256, Math.ceil(count / (256 * 8)), Math.floor(4096 / channels) || 1));
  const pmin = ctx.empty([channels * slices]);
  const pmax = ctx.empty([channels * slices]);
  const p = params({ n: x.size, channels, inner, count, slices });
  ctx.run({ key: 'observer', code, entry: 'minmax_partial', inputs: [x], outputs: [pmin, pmax], params: p, workgroups: [slices, channels] });
  const mn = ctx.empty([channels]);
  const mx = ctx.empty([channels]);
  ctx.run({ key: 'observer', code, entry: 'minmax_final', inputs: [pmin, pmax], outputs: [mn, mx], params: p, workgroups: [channels] });
  ctx.release(pmin);
  ctx.release(pmax);
  return [mn, mx];
}

/** Per-channel [min, max] along `axis` of x.shape (negative allowed). */
export function minMaxPerChannel(ctx: GpuContext, x: GpuTensor, axis: number): [GpuTensor, GpuTensor] {
  return minMax(ctx, x, axisLayout(x.shape, axis));
}

/** minMax read back: {min, max} arrays of 1 or C values. Releases the GPU results. */
export async function readMinMax(
  ctx: GpuContext, x: GpuTensor, layout?: ChannelLayout,
): Promise<{ min: Float32Array; max: Float32Array }> {
  const [mn, mx] = minMax(ctx, x, layout);
  const min = await ctx.read(mn);
  const max = await ctx.read(mx);
  ctx.release(mn);
  ctx.release(mx);
  return { min, max };
}

/**
 * torch.histc(x, bins, min=lo, max=hi) for lo < hi (float32 counts, [bins]): NaN and values outside [lo, hi]
 * are ignored, values equal to hi go to the last bin, bin = int(f32(f32(f32(x - lo) * bins) / f32(hi - lo)))
 * with the division correctly rounded (bit-exact with `torchHistc` of the CPU observers).
 */
export function histogram(ctx: GpuContext, x: GpuTensor, bins: number, lo: number, hi: number): GpuTensor {
  if (!Number.isInteger(bins) || bins < 1) throw new Error(`histogram: bad bin count ${bins}`);
  const L = F(lo);
  const H = F(hi);
  if (!(L < H) || !Number.isFinite(L) || !Number.isFinite(H)) throw new Error(`histogram: bad range [${lo}, ${hi}]`);
  const width = F(H - L);
  if (!(width <= F32_MAX)) throw new Error(`histogram: range [${lo}, ${hi}] overflows float32`);
  const counts = ctx.zeros([bins]);
  const local = bins <= LOCAL_BINS;
  const groups = Math.max(1, Math.min(local ? 64 : 1024, Math.ceil(x.size / (256 * 16))));
  const p = params({ n: x.size, bins, lo: L, hi: H, width });
  ctx.run({
    key: 'observer', code, entry: local ? 'histc_local' : 'histc_global', inputs: [x], outputs: [counts],
    params: p, workgroups: [groups],
  });
  const out = ctx.empty([bins]);
  ctx.run({ key: 'observer', code, entry: 'counts_to_f32', inputs: [counts], outputs: [out], params: p, workgroups: [Math.ceil(bins / 256)] });
  ctx.release(counts);
  return out;
}

/**
 * torch.histc with its degenerate-range rule: when lo == hi the tensor's own min/max are used (read back from
 * the GPU unless given), and ±1 around them when those are equal too.
 */
export async function histc(
  ctx: GpuContext, x: GpuTensor, bins: number, lo: number, hi: number, xMinMax?: [number, number],
): Promise<GpuTensor> {
  let left = lo;
  let right = hi;
  if (left === right && x.size > 0) {
    if (xMinMax) [left, right] = xMinMax;
    else {
      const r = await readMinMax(ctx, x);
      left = r.min[0];
      right = r.max[0];
    }
  }
  if (left === right) {
    left -= 1;
    right += 1;
  }
  if (!(left < right)) {
    // all NaN / empty (min/max = +inf/-inf) or a reversed range: nothing is counted
    return ctx.zeros([bins]);
  }
  return histogram(ctx, x, bins, left, right);
}
