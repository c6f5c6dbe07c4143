/**
 * The integers the QDQ export writes: the converted model's (src/quant/convert.ts), i.e. exactly what the
 * fixed-point simulator computes with, so the exported model and the simulated one cannot drift apart (the export
 * used to quantize the int32 biases with a formula of its own). A graph convert refuses (an unfused batch norm,
 * float ops outside the stubs) has no simulator to agree with: the export then quantizes with the same functions
 * convert uses (quantizeBias of the simulator; the fake quant's weight rule).
 */
import type { QuantPlan } from '../../quant/prepare.ts';
import type { HostParams } from '../../nn/params.ts';
import { convert, ConvertError } from '../../quant/convert.ts';
import type { IntLayer } from '../../sim/model.ts';

/** conv / linear node id -> its int8 weights (as laid out in the graph's parameter) and int32 bias. */
export type LayerIntegers = Record<string, { weight: Int8Array; bias: Int32Array }>;

/**
 * The converted model's conv / linear integers and every layer by node id (what the simulator computes: the export
 * writes the add's integer arithmetic from it), or nulls when the graph does not convert (the reason is returned).
 */
export function convertedIntegers(plan: QuantPlan, params: HostParams, actScales: Record<string, number>): { integers: LayerIntegers | null; layers: Record<string, IntLayer> | null; reason: string | null } {
  let im;
  try {
    im = convert(plan, params, actScales);
  } catch (e) {
    if (e instanceof ConvertError || e instanceof RangeError) return { integers: null, layers: null, reason: e.message };
    throw e;
  }
  const integers: LayerIntegers = {};
  const layers: Record<string, IntLayer> = {};
  for (const l of im.layers) {
    layers[l.id] = l;
    // every layer kind with integer weights (conv2d, linear)
    if ('weight' in l) integers[l.id] = { weight: l.weight, bias: l.bias };
  }
  return { integers, layers, reason: null };
}
