/**
 * 'webgpu' runners of the quantization kinds, on the WGSL kernels:
 *
 * - fake_quant_per_tensor / fake_quant_per_channel: forward (`out` and the STE mask) with the forward kernel,
 *   `grad_x` / `grad_w` with the backward kernel (mask recomputed from x). Bit-exact; `derived.mask` is checked,
 *   `derived.q` is not (the kernels do not output the integers).
 * - observer_minmax / observer_moving_average_minmax / observer_per_channel_minmax: the per-batch min/max (per
 *   channel) reduction runs on the GPU; the running min/max, the moving average and `calculate_qparams` are the CPU
 *   observer classes, fed the GPU result as a two-value batch per channel ([min, max] has the same min and max).
 *   Bit-exact.
 * - observer_histogram: GPU min/max and GPU histc (on the range the CPU HistogramObserver plans, i.e. with the
 *   torch 1.13 int()-truncation quirk), merged and searched by the CPU class (planBatch / commitBatch);
 *   same tolerances as the CPU runner (histogram, min_val, max_val exact; scale 1e-3 relative).
 *
 * The device: the shared conformance backend (src/conformance/gpu-lease.ts).
 */
import { HistogramObserver } from '../../quant/observers/histogram.ts';
import { MinMaxObserver } from '../../quant/observers/minmax.ts';
import { MovingAverageMinMaxObserver } from '../../quant/observers/moving-average-minmax.ts';
import { PerChannelMinMaxObserver } from '../../quant/observers/per-channel-minmax.ts';
import type { Observer, ObserverConfig } from '../../quant/observers/base.ts';
import type { RoundingMode } from '../../qmath/rounding.ts';
import type { GpuContext, GpuTensor } from '../../engine/webgpu/gpu-context.ts';
import {
  type ChannelLayout, axisLayout, fakeQuantize, fakeQuantizeBackward, perTensorLayout, uploadQParams,
} from '../../engine/webgpu/ops/fake-quant.ts';
import { histogram, readMinMax } from '../../engine/webgpu/ops/observe.ts';
import type { CaseFile, CaseResult, KindRunner } from '../types.ts';
import { withConformanceBackend } from '../gpu-lease.ts';
import { compare, f32Tensor, isCaseTensor, numbers, param, result, tensorData } from './common.ts';
import { observerConfigFromCase } from './observers.ts';

function withGpu(run: (ctx: GpuContext, c: CaseFile) => Promise<CaseResult>): KindRunner {
  return (c) => withConformanceBackend((be) => run(be.ctx, c));
}

function rounding(c: CaseFile): RoundingMode {
  const r = param<string>(c, 'rounding', 'half_even');
  if (r !== 'half_even' && r !== 'bpu_round') throw new Error(`unsupported rounding ${r}`);
  return r;
}

async function fakeQuantCase(
  ctx: GpuContext, c: CaseFile, x: { shape: number[]; data: Float32Array }, g: Float32Array,
  scales: number[], zps: number[], layout: ChannelLayout, gradName: string,
): Promise<CaseResult> {
  const range = { quantMin: param<number>(c, 'quant_min'), quantMax: param<number>(c, 'quant_max'), rounding: rounding(c) };
  const tx = ctx.upload(x.data, x.shape);
  const tg = ctx.upload(g, x.shape);
  const qp = uploadQParams(ctx, scales, zps);
  const { out, mask } = fakeQuantize(ctx, tx, qp, layout, range, true);
  const gx = fakeQuantizeBackward(ctx, tg, tx, qp, layout, range);
  const outH = await ctx.read(out);
  const maskH = await ctx.read(mask!);
  const gxH = await ctx.read(gx);
  for (const t of [tx, tg, qp, out, mask!, gx]) ctx.release(t);
  const checks = [
    compare('out', numbers(c.expected, 'out', 'expected'), outH),
    compare(gradName, numbers(c.expected, gradName, 'expected'), gxH),
  ];
  const d = c.derived ?? {};
  if (d.mask !== undefined) checks.push(compare('mask', tensorData(d, 'mask', 'derived').data, maskH));
  return result(checks);
}

export const fakeQuantPerTensorWebGpu: KindRunner = withGpu(async (ctx, c) => {
  const x = f32Tensor(c.inputs, 'x', 'inputs');
  const g = f32Tensor(c.inputs, 'grad_output', 'inputs');
  return fakeQuantCase(ctx, c, x, g.data, [param<number>(c, 'scale')], [param<number>(c, 'zero_point')],
    perTensorLayout(x.data.length), 'grad_x');
});

export const fakeQuantPerChannelWebGpu: KindRunner = withGpu(async (ctx, c) => {
  const w = f32Tensor(c.inputs, 'w', 'inputs');
  const g = f32Tensor(c.inputs, 'grad_output', 'inputs');
  return fakeQuantCase(ctx, c, w, g.data, numbers(c.params, 'scales', 'params'), numbers(c.params, 'zero_points', 'params'),
    axisLayout(w.shape, param<number>(c, 'axis', 0)), 'grad_w');
});

function batches(c: CaseFile): { shape: number[]; data: Float32Array }[] {
  const b = c.inputs.batches;
  if (!Array.isArray(b)) throw new Error('inputs.batches is missing or not a list');
  return b.map((t, i) => {
    if (!isCaseTensor(t)) throw new Error(`inputs.batches[${i}] is not a tensor`);
    return { shape: t.shape, data: Float32Array.from(t.data as number[]) };
  });
}

/**
 * A tiny batch whose per-channel min/max along `axis` are (min[c], max[c]): the channel at `axis` with the two
 * values next to it ([1,..,1, C, 2] for axis >= 0, [2, C, 1,..,1] for a negative axis).
 */
function minMaxBatch(min: Float32Array, max: Float32Array, axis: number): { data: Float32Array; shape: number[] } {
  const C = min.length;
  const data = new Float32Array(2 * C);
  if (axis >= 0) {
    for (let ch = 0; ch < C; ch++) {
      data[2 * ch] = min[ch];
      data[2 * ch + 1] = max[ch];
    }
    return { data, shape: [...Array(axis).fill(1), C, 2] };
  }
  data.set(min, 0);
  data.set(max, C);
  return { data, shape: [2, C, ...Array(-axis - 1).fill(1)] };
}

function minMaxObserverRunner(make: (cfg: ObserverConfig) => Observer, perChannel: boolean): KindRunner {
  return withGpu(async (ctx, c) => {
    const cfg = observerConfigFromCase(c);
    const obs = make(cfg);
    const axis = cfg.chAxis ?? 0;
    for (const b of batches(c)) {
      if (b.data.length === 0) continue;
      const tx = ctx.upload(b.data, b.shape);
      const mm = await readMinMax(ctx, tx, perChannel ? axisLayout(b.shape, axis) : perTensorLayout(b.data.length));
      ctx.release(tx);
      // an all-NaN batch (min > max): feed nothing, min/max unchanged (the CPU observer would also leave MinMax
      // unchanged; MovingAverage's first batch would store [inf, -inf]). Per channel, an all-NaN channel would
      // turn its max into +inf here: a documented divergence, not in the cases.
      if (!perChannel && !(mm.min[0] <= mm.max[0])) continue;
      const batch = perChannel ? minMaxBatch(mm.min, mm.max, axis) : { data: Float32Array.of(mm.min[0], mm.max[0]), shape: [2] };
      obs.observe(batch.data, batch.shape);
    }
    const qp = obs.calculateQParams();
    const e = c.expected;
    return result([
      compare('scale', numbers(e, 'scale', 'expected'), qp.scale),
      compare('zero_point', numbers(e, 'zero_point', 'expected'), qp.zeroPoint),
      compare('min_val', numbers(e, 'min_val', 'expected'), obs.minVal),
      compare('max_val', numbers(e, 'max_val', 'expected'), obs.maxVal),
    ]);
  });
}

/** torch.histc's degenerate-range rule around the GPU histogram (the batch's own min/max when lo == hi). */
async function gpuHistc(ctx: GpuContext, x: GpuTensor, bins: number, lo: number, hi: number, xMin: number, xMax: number) {
  let left = lo;
  let right = hi;
  if (left === right) [left, right] = [xMin, xMax];
  if (left === right) [left, right] = [left - 1, right + 1];
  const h = histogram(ctx, x, bins, left, right);
  const out = await ctx.read(h);
  ctx.release(h);
  return out;
}

export const observerHistogramWebGpu: KindRunner = withGpu(async (ctx, c) => {
  const obs = new HistogramObserver(observerConfigFromCase(c));
  for (const b of batches(c)) {
    if (b.data.length === 0) continue;
    const tx = ctx.upload(b.data, b.shape);
    const mm = await readMinMax(ctx, tx);
    const plan = obs.planBatch(mm.min[0], mm.max[0]);
    const hist = await gpuHistc(ctx, tx, obs.bins, plan.histcMin, plan.histcMax, mm.min[0], mm.max[0]);
    ctx.release(tx);
    obs.commitBatch(plan, hist);
  }
  const e = c.expected;
  const checks = [
    compare('min_val', numbers(e, 'min_val', 'expected'), obs.minVal),
    compare('max_val', numbers(e, 'max_val', 'expected'), obs.maxVal),
  ];
  if (e.histogram !== undefined) checks.push(compare('histogram', numbers(e, 'histogram', 'expected'), obs.histogram));
  if (obs.initialized && (e.search_min !== undefined || e.search_max !== undefined)) {
    const [lo, hi] = obs.nonLinearParamSearch();
    const mag = Math.max(Math.abs(obs.minVal[0]), Math.abs(obs.maxVal[0]));
    const tol = { abs: 1e-3 * mag };
    if (e.search_min !== undefined) checks.push(compare('search_min', numbers(e, 'search_min', 'expected'), [lo], tol));
    if (e.search_max !== undefined) checks.push(compare('search_max', numbers(e, 'search_max', 'expected'), [hi], tol));
  }
  const qp = obs.calculateQParams();
  checks.push(compare('scale', numbers(e, 'scale', 'expected'), qp.scale, { rel: 1e-3 }));
  checks.push(compare('zero_point', numbers(e, 'zero_point', 'expected'), qp.zeroPoint, { abs: 1 }));
  return result(checks);
});

/**
 * Registered by src/conformance/registry.ts (`registerKind(kind, 'webgpu', runner)`); this module does not import
 * the registry itself, which would be an import cycle evaluated before the registry's map exists.
 */
export const webgpuKinds: Record<string, KindRunner> = {
  fake_quant_per_tensor: fakeQuantPerTensorWebGpu,
  fake_quant_per_channel: fakeQuantPerChannelWebGpu,
  observer_minmax: minMaxObserverRunner((cfg) => new MinMaxObserver(cfg), false),
  observer_moving_average_minmax: minMaxObserverRunner((cfg) => new MovingAverageMinMaxObserver(cfg), false),
  observer_per_channel_minmax: minMaxObserverRunner((cfg) => new PerChannelMinMaxObserver(cfg), true),
  observer_histogram: observerHistogramWebGpu,
};
