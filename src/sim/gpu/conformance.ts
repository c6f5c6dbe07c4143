/**
 * 'webgpu' conformance runners of the fixed-point simulator: quantized_conv2d, quantized_linear, quantized_add,
 * quantized_relu on the WGSL integer kernels (src/sim/gpu/kernels.ts), 'pytorch' (qnnpack) mode. Same checks as
 * the CPU runners (src/sim/conformance.ts): `expected.out_q` bit-exactly, and the verified intermediates in
 * `derived` (bias_int32 and requant multipliers are convert-time host values; acc_int32 comes from the GPU
 * accumulator kernel; add multipliers / shift). The fused GPU conv / linear (accumulate + requantize in one
 * dispatch) produces `out_q`. `quantized_linear__12_requant_f32_vs_f64` keeps its ±1 tolerance on the marked outputs
 * (never used: the GPU float32 path is exact as well).
 *
 * The device: the shared conformance backend (src/conformance/gpu-lease.ts).
 */
import type { CaseFile, CaseResult, KindRunner, Mismatch } from '../../conformance/types.ts';
import { compare, f32s, num, result, tensor, toInt } from '../conformance-case.ts';
import type { GpuContext } from '../../engine/webgpu/gpu-context.ts';
import { withConformanceBackend } from '../../conformance/gpu-lease.ts';
import { computeAddParamsQnnpack } from '../int/add.ts';
import { pytorchRequantSpec, quantizeBias, type IntArray } from '../int/requant.ts';
import { caseTolerance, f32VsF64Marked } from '../conformance.ts';
import { createGpuIntKernels, type GpuIntKernels } from './kernels.ts';

const kernelsByCtx = new WeakMap<GpuContext, GpuIntKernels>();

function withGpu(run: (k: GpuIntKernels, c: CaseFile) => Promise<CaseResult>): KindRunner {
  return async (c) => {
    try {
      return await withConformanceBackend(async ({ ctx }) => {
        let k = kernelsByCtx.get(ctx);
        if (!k) kernelsByCtx.set(ctx, (k = createGpuIntKernels(ctx)));
        return await run(k, c);
      });
    } catch (e) {
      return { ok: false, mismatches: [], error: e instanceof Error ? e.message : String(e) };
    }
  };
}

// ---------------------------------------------------------------------------------------------------------------
// Runners
// ---------------------------------------------------------------------------------------------------------------

async function runConvOrLinear(k: GpuIntKernels, c: CaseFile, isConv: boolean): Promise<CaseResult> {
  const inp = c.inputs;
  const p = c.params;
  const xT = tensor(inp.x_q, 'x_q');
  const wT = tensor(inp.w_q, 'w_q');
  const x = toInt(xT, 'x_q');
  const w = toInt(wT, 'w_q');
  if (!(x instanceof Uint8Array)) throw new Error('x_q must be uint8 (quint8)');
  if (!(w instanceof Int8Array)) throw new Error('w_q must be int8');
  const wzp = inp.w_zero_points ? (tensor(inp.w_zero_points, 'w_zero_points').data as number[]) : [];
  if (wzp.some((z) => z !== 0)) throw new Error('only symmetric weights (zero points 0) are supported');
  const xs = num(inp.x_scale, 'x_scale');
  const xzp = num(inp.x_zero_point, 'x_zero_point');
  const ws = f32s(tensor(inp.w_scales, 'w_scales'));
  const os = num(p.out_scale, 'out_scale');
  const ozp = num(p.out_zero_point, 'out_zero_point');
  const out = { dtype: 'uint8' as const, zeroPoint: ozp, clampMin: p.fused_relu === true ? ozp : undefined };

  // Convert time (host, float allowed): bias -> int32, float32 requant multipliers.
  const bias = inp.bias == null ? null : quantizeBias(f32s(tensor(inp.bias, 'bias')), xs, ws);
  const spec = pytorchRequantSpec(xs, ws, os);

  // Integer datapath on the GPU: the accumulator (for derived.acc_int32) and the fused accumulate + requantize.
  let acc: Int32Array;
  let outQ: IntArray;
  if (isConv) {
    const input = {
      x, xShape: xT.shape as [number, number, number, number], xZeroPoint: xzp,
      w, wShape: wT.shape as [number, number, number, number], bias,
    };
    const geom = {
      stride: p.stride as [number, number],
      padding: p.padding as [number, number],
      dilation: p.dilation as [number, number],
      groups: (p.groups as number | undefined) ?? 1,
    };
    acc = (await k.conv2dAccumulate(input, geom)).acc;
    outQ = (await k.conv2dInt(input, geom, spec, out)).data;
  } else {
    const input = { x, xShape: xT.shape as [number, number], xZeroPoint: xzp, w, wShape: wT.shape as [number, number], bias };
    acc = (await k.linearAccumulate(input)).acc;
    outQ = (await k.linearInt(input, spec, out)).data;
  }

  const exp = tensor(c.expected.out_q, 'expected.out_q');
  const d = c.derived ?? {};
  const checks: Array<Mismatch | null> = [];
  const tolerance = caseTolerance(c);
  if (tolerance !== undefined) {
    const marked = f32VsF64Marked(c);
    const recorded = d.n_diff_if_float64_multiplier_half_even;
    if (typeof recorded === 'number' && recorded !== marked.size) {
      throw new Error(`marked outputs: found ${marked.size}, file records ${recorded}`);
    }
    checks.push(compare('out_q', exp.data as number[], outQ, (i) => (marked.has(i) ? tolerance : 0)));
  } else {
    checks.push(compare('out_q', exp.data as number[], outQ));
  }
  if (d.bias_int32 && bias) checks.push(compare('derived.bias_int32', tensor(d.bias_int32, 'bias_int32').data as number[], bias));
  if (d.acc_int32) checks.push(compare('derived.acc_int32', tensor(d.acc_int32, 'acc_int32').data as number[], acc));
  if (d.requant_multiplier_f32 && spec.mode === 'pytorch') {
    checks.push(compare('derived.requant_multiplier_f32', f32s(tensor(d.requant_multiplier_f32, 'M')), spec.multiplier));
  }
  return result(checks);
}

async function runAdd(k: GpuIntKernels, c: CaseFile): Promise<CaseResult> {
  const inp = c.inputs;
  const a = toInt(tensor(inp.a_q, 'a_q'), 'a_q');
  const b = toInt(tensor(inp.b_q, 'b_q'), 'b_q');
  const ozp = num(c.params.out_zero_point, 'out_zero_point');
  const params = computeAddParamsQnnpack(num(inp.a_scale, 'a_scale'), num(inp.b_scale, 'b_scale'), num(c.params.out_scale, 'out_scale'));
  const out = await k.addInt(a, num(inp.a_zero_point, 'a_zero_point'), b, num(inp.b_zero_point, 'b_zero_point'), params, {
    dtype: 'uint8',
    zeroPoint: ozp,
    clampMin: c.params.fused_relu === true ? ozp : undefined,
  });
  const d = c.derived ?? {};
  const checks: Array<Mismatch | null> = [compare('out_q', tensor(c.expected.out_q, 'out_q').data as number[], out)];
  for (const key of ['a_multiplier', 'b_multiplier', 'shift'] as const) {
    const want = d[key];
    const got = key === 'a_multiplier' ? params.aMultiplier : key === 'b_multiplier' ? params.bMultiplier : params.shift;
    if (typeof want === 'number') checks.push(compare(`derived.${key}`, [want], [got]));
  }
  return result(checks);
}

async function runRelu(k: GpuIntKernels, c: CaseFile): Promise<CaseResult> {
  const x = toInt(tensor(c.inputs.x_q, 'x_q'), 'x_q');
  const out = await k.reluInt(x, num(c.inputs.x_zero_point, 'x_zero_point'));
  return result([compare('out_q', tensor(c.expected.out_q, 'out_q').data as number[], out)]);
}

export const simGpuKinds: Record<string, KindRunner> = {
  quantized_conv2d: withGpu((k, c) => runConvOrLinear(k, c, true)),
  quantized_linear: withGpu((k, c) => runConvOrLinear(k, c, false)),
  quantized_add: withGpu(runAdd),
  quantized_relu: withGpu(runRelu),
};
