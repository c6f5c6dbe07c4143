/**
 * The quantized_* conformance runners (quantized_conv2d, quantized_linear, quantized_add, quantized_relu), 'pytorch'
 * (qnnpack) mode, written once over an integer datapath: the CPU simulator kernels (src/sim/conformance.ts) or the
 * WGSL ones (src/sim/gpu/conformance.ts). Outputs are compared bit-exactly with `expected.out_q`; the verified
 * intermediates in `derived` (bias_int32, acc_int32, requant multipliers, add multipliers/shift) are compared too,
 * so that a failure says where the datapath diverged. bias_int32 and the multipliers are convert-time host values.
 *
 * Tolerance: `quantized_linear__12_requant_f32_vs_f64` allows ±1 on its marked outputs. The case file does not
 * list them; it marks them through `derived.n_diff_if_float64_multiplier_half_even`: they are the outputs where
 * float64 requantization nearbyint(acc * x_s*w_s/out_s) differs from the float32 one. The runner recomputes that
 * set from `derived.acc_int32` and checks its size against the recorded count. Both datapaths emulate float32
 * exactly, so they get those outputs exactly right anyway (the tolerance is never used; see the test).
 */
import type { CaseFile, CaseResult, KindRunner, Mismatch } from '../conformance/types.ts';
import { computeAddParamsQnnpack, type AddParams } from './int/add.ts';
import type { Conv2dGeometry, QConv2dInput } from './int/conv2d.ts';
import type { QLinearInput } from './int/linear.ts';
import { nearbyint, pytorchRequantSpec, quantizeBias, type IntArray, type OutputSpec, type RequantSpec } from './int/requant.ts';
import { compare, f32s, num, result, tensor, toInt } from './conformance-case.ts';

/** What the runners need of a datapath: the accumulator (for derived.acc_int32) and the requantized output. */
export interface IntDatapath {
  conv2d(input: QConv2dInput, geom: Conv2dGeometry, spec: RequantSpec, out: OutputSpec): Promise<{ acc: Int32Array; outQ: IntArray }>;
  linear(input: QLinearInput, spec: RequantSpec, out: OutputSpec): Promise<{ acc: Int32Array; outQ: IntArray }>;
  add(a: IntArray, aZeroPoint: number, b: IntArray, bZeroPoint: number, params: AddParams, out: OutputSpec): Promise<IntArray>;
  relu(x: IntArray, zeroPoint: number): Promise<IntArray>;
}

/** Runs `run` with a datapath (acquiring and releasing whatever it needs). */
export type WithDatapath = (run: (d: IntDatapath) => Promise<CaseResult>) => Promise<CaseResult>;

/**
 * Per-case tolerance: ±1 on the marked outputs of `quantized_linear__12_requant_f32_vs_f64` only (case files carry
 * kind and name, the name without the number: matched on both).
 */
export function caseTolerance(c: CaseFile): number | undefined {
  return c.kind === 'quantized_linear' && /(^|_)requant_f32_vs_f64$/.test(c.name) ? 1 : undefined;
}

/**
 * Indices where float64 requantization differs from float32 (qnnpack) requantization, i.e. the outputs that
 * `quantized_linear__12_requant_f32_vs_f64` marks as ±1-tolerant.
 */
export function f32VsF64Marked(c: CaseFile): Set<number> {
  const d = c.derived ?? {};
  const acc = tensor(d.acc_int32, 'derived.acc_int32').data as number[];
  const shape = tensor(d.acc_int32, 'derived.acc_int32').shape;
  const xs = num(c.inputs.x_scale, 'x_scale');
  const ws = f32s(tensor(c.inputs.w_scales, 'w_scales'));
  const os = num(c.params.out_scale, 'out_scale');
  const O = ws.length;
  const inner = shape.length === 4 ? shape[2] * shape[3] : 1;
  const M = pytorchRequantSpec(xs, ws, os);
  const marked = new Set<number>();
  if (M.mode !== 'pytorch') return marked;
  for (let i = 0; i < acc.length; i++) {
    const o = Math.floor(i / inner) % O;
    const r64 = nearbyint((acc[i] * ((xs * ws[o]) / os)));
    const r32 = nearbyint(Math.fround(Math.fround(acc[i]) * M.multiplier[o]));
    if (r64 !== r32) marked.add(i);
  }
  return marked;
}

async function runConvOrLinear(d: IntDatapath, c: CaseFile, isConv: boolean): Promise<CaseResult> {
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
  const out: OutputSpec = { dtype: 'uint8', zeroPoint: ozp, clampMin: p.fused_relu === true ? ozp : undefined };

  // Convert time (float allowed): bias -> int32, float32 requant multipliers.
  const bias = inp.bias == null ? null : quantizeBias(f32s(tensor(inp.bias, 'bias')), xs, ws);
  const spec = pytorchRequantSpec(xs, ws, os);

  // The integer datapath.
  const { acc, outQ } = isConv
    ? await d.conv2d(
      {
        x, xShape: xT.shape as [number, number, number, number], xZeroPoint: xzp,
        w, wShape: wT.shape as [number, number, number, number], bias,
      },
      {
        stride: p.stride as [number, number],
        padding: p.padding as [number, number],
        dilation: p.dilation as [number, number],
        groups: (p.groups as number | undefined) ?? 1,
      },
      spec, out)
    : await d.linear({ x, xShape: xT.shape as [number, number], xZeroPoint: xzp, w, wShape: wT.shape as [number, number], bias }, spec, out);

  const exp = tensor(c.expected.out_q, 'expected.out_q');
  const derived = c.derived ?? {};
  const checks: Array<Mismatch | null> = [];
  const tolerance = caseTolerance(c);
  if (tolerance !== undefined) {
    const marked = f32VsF64Marked(c);
    const recorded = derived.n_diff_if_float64_multiplier_half_even;
    if (typeof recorded === 'number' && recorded !== marked.size) {
      throw new Error(`marked outputs: found ${marked.size}, file records ${recorded}`);
    }
    checks.push(compare('out_q', exp.data as number[], outQ, (i) => (marked.has(i) ? tolerance : 0)));
  } else {
    checks.push(compare('out_q', exp.data as number[], outQ));
  }
  if (derived.bias_int32 && bias) checks.push(compare('derived.bias_int32', tensor(derived.bias_int32, 'bias_int32').data as number[], bias));
  if (derived.acc_int32) checks.push(compare('derived.acc_int32', tensor(derived.acc_int32, 'acc_int32').data as number[], acc));
  if (derived.requant_multiplier_f32 && spec.mode === 'pytorch') {
    checks.push(compare('derived.requant_multiplier_f32', f32s(tensor(derived.requant_multiplier_f32, 'M')), spec.multiplier));
  }
  return result(checks);
}

async function runAdd(d: IntDatapath, c: CaseFile): Promise<CaseResult> {
  const inp = c.inputs;
  const a = toInt(tensor(inp.a_q, 'a_q'), 'a_q');
  const b = toInt(tensor(inp.b_q, 'b_q'), 'b_q');
  const ozp = num(c.params.out_zero_point, 'out_zero_point');
  const params = computeAddParamsQnnpack(num(inp.a_scale, 'a_scale'), num(inp.b_scale, 'b_scale'), num(c.params.out_scale, 'out_scale'));
  const out = await d.add(a, num(inp.a_zero_point, 'a_zero_point'), b, num(inp.b_zero_point, 'b_zero_point'), params, {
    dtype: 'uint8',
    zeroPoint: ozp,
    clampMin: c.params.fused_relu === true ? ozp : undefined,
  });
  const derived = c.derived ?? {};
  const checks: Array<Mismatch | null> = [compare('out_q', tensor(c.expected.out_q, 'out_q').data as number[], out)];
  for (const k of ['a_multiplier', 'b_multiplier', 'shift'] as const) {
    const want = derived[k];
    const got = k === 'a_multiplier' ? params.aMultiplier : k === 'b_multiplier' ? params.bMultiplier : params.shift;
    if (typeof want === 'number') checks.push(compare(`derived.${k}`, [want], [got]));
  }
  return result(checks);
}

async function runRelu(d: IntDatapath, c: CaseFile): Promise<CaseResult> {
  const x = toInt(tensor(c.inputs.x_q, 'x_q'), 'x_q');
  const out = await d.relu(x, num(c.inputs.x_zero_point, 'x_zero_point'));
  return result([compare('out_q', tensor(c.expected.out_q, 'out_q').data as number[], out)]);
}

/** The four kinds over `withDatapath`; a thrown error becomes a failed case with its message. */
export function intKinds(withDatapath: WithDatapath): Record<string, KindRunner> {
  const guard = (run: (d: IntDatapath, c: CaseFile) => Promise<CaseResult>): KindRunner => async (c) => {
    try {
      return await withDatapath((d) => run(d, c));
    } catch (e) {
      return { ok: false, mismatches: [], error: e instanceof Error ? e.message : String(e) };
    }
  };
  return {
    quantized_conv2d: guard((d, c) => runConvOrLinear(d, c, true)),
    quantized_linear: guard((d, c) => runConvOrLinear(d, c, false)),
    quantized_add: guard(runAdd),
    quantized_relu: guard(runRelu),
  };
}
