/** The simulator's integers of a fake-quantized value, for feeding one integer layer the fake-quant model's inputs. */
import type { IntModel } from '../../src/quant/convert.ts';
import type { IntTensor } from '../../src/sim/run.ts';

/** Integers of a fake-quantized value (exact: q · s rounds back to q). */
export function toInt(im: IntModel, id: string, v: Float32Array, n: number): IntTensor {
  const info = im.values[id];
  const s = info.scales[0];
  const data = info.dtype === 'int16' ? new Int16Array(v.length) : new Int8Array(v.length);
  for (let i = 0; i < v.length; i++) data[i] = Math.round(v[i] / s);
  return { data, shape: [n, ...info.shape] };
}
