/**
 * The integer layer norm's convert-time constants (the `layernorm` layer, src/sim/int/layernorm.ts; formulas and
 * bounds in docs/fixed-point.md "layer norm"): the only float arithmetic of the layer, done once here.
 */
import type { GraphNode } from '../../graph/ir.ts';
import { BETA_BITS, GAMMA_BITS, LAYERNORM_MAX_D, rsqrtTable, XHAT_BITS, type LayerNormParams } from '../../sim/int/layernorm.ts';
import type { LowerCtx, Lowered } from '../types.ts';

/** The largest even f ≤ 32 with (vmax + E) · 2^f < 2^53: the sums' extra bits that keep eps's fraction. */
function preShiftFor(vmax: number, E: number): number {
  let f = 0;
  while (f < 32 && (vmax + E) * 2 ** (f + 2) < 2 ** 53) f += 2;
  return f;
}

/** The largest Sg ≤ 48 with |G_j| < 2^22 and |B_j| < 2^51 (the products and sums stay below 2^53). */
function outShiftFor(gamma: Float32Array, beta: Float32Array, sOut: number): number {
  const fits = (sg: number) => gamma.every((g) => Math.abs(Math.round((g / sOut) * 2 ** (sg - XHAT_BITS))) < 2 ** GAMMA_BITS) &&
    beta.every((b) => Math.abs(Math.round((b / sOut) * 2 ** sg)) < 2 ** BETA_BITS);
  let sg = 48;
  while (sg >= 0 && !fits(sg)) sg--;
  return sg;
}

/** Why a layer norm node stays float on a march that has the integer form (null: it is integer). */
export function layerNormFloatIf(n: GraphNode): string | null {
  const d = n.shape[n.shape.length - 1];
  return d > LAYERNORM_MAX_D ? `LayerNorm over ${d} features: the integer layer norm's exact sums hold rows of at most ${LAYERNORM_MAX_D}` : null;
}

/** What the constants depend on: the input's dtype and scale, the row length, eps, gamma, beta and the output scale. */
export interface LayerNormSpec {
  inDtype: 'int8' | 'int16';
  sx: number;
  d: number;
  eps: number;
  gamma: Float32Array;
  beta: Float32Array;
  sOut: number;
}

/** The layer's constants; a string: why the case does not fit the exact integer range. */
export function layerNormParams(p: LayerNormSpec): LayerNormParams | string {
  const { d, eps, gamma, beta, sOut } = p;
  const sx = Math.fround(p.sx);
  if (d > LAYERNORM_MAX_D) return `rows of ${d} features (at most ${LAYERNORM_MAX_D})`;
  const maxAbs = p.inDtype === 'int16' ? 32768 : 128;
  // V = d·S2 − S1² ≤ d·S2 ≤ d² · maxAbs²; eps in the same units: eps · d² / s_x²
  const vmax = d * d * maxAbs * maxAbs, E = (eps * d * d) / (sx * sx);
  if (!(vmax + E < 2 ** 53)) return `eps ${eps} at input scale ${sx} over ${d} features leaves the 53-bit exact range`;
  const preShift = preShiftFor(vmax, E);
  const outShift = outShiftFor(gamma, beta, sOut);
  if (outShift < 0) return `gamma / beta too large for the output scale ${sOut}`;
  return {
    rsqrtTable: rsqrtTable(), preShift, epsInt: Math.round(E * 2 ** preShift),
    gamma: Int32Array.from(gamma, (g) => Math.round((g / sOut) * 2 ** (outShift - XHAT_BITS))),
    beta: Array.from(beta, (b) => Math.round((b / sOut) * 2 ** outShift)),
    outShift,
  };
}

export function lowerLayerNorm(n: GraphNode, c: LowerCtx, eps: number): Lowered {
  const s = c.site(n);
  const xin = c.info(n.inputs[0]);
  if ((xin.dtype !== 'int8' && xin.dtype !== 'int16') || xin.scales.length !== 1) c.fail(`${n.id}: layer norm of a ${xin.dtype} value (int8 / int16 inputs, one scale, only)`);
  const p = layerNormParams({
    inDtype: xin.dtype as 'int8' | 'int16', sx: xin.scales[0], d: n.shape[n.shape.length - 1], eps,
    gamma: c.param(n.params.weight), beta: c.param(n.params.bias), sOut: s.scale,
  });
  if (typeof p === 'string') c.fail(`${n.id}: layer norm ${p}`);
  return {
    layer: { id: n.id, op: 'layernorm', inputs: [...n.inputs], ...p, clamp: c.dtypeClamp(s.dtype) },
    value: { dtype: s.dtype, scales: [s.scale], shape: [...n.shape] },
  };
}
