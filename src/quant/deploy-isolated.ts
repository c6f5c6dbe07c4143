/**
 * The deployment check's per-layer comparison with the layer alone (DeployCheckOptions.isolated): each integer
 * layer fed the fake-quant model's own integers at its inputs (round(value / lsb)), on the CPU simulator, against
 * the fake-quant value at its output. The end-to-end table carries every earlier layer's difference; this one says
 * what the layer itself adds (the ≤ 1-2 LSB a requantization may round differently).
 */
import type { IntModel } from '../sim/model.ts';
import { allocInt } from '../sim/int/requant.ts';
import { execLayer } from '../sim/run.ts';

/** Max |round(ref / lsb) − simulator| of each per-tensor layer in `ids` over one batch, fed the reference's integers. */
export function isolatedMaxLsb(im: IntModel, ids: readonly string[], ref: ReadonlyMap<string, Float32Array>, n: number): Map<string, number> {
  const out = new Map<string, number>();
  const byId = new Map(im.layers.map((l) => [l.id, l]));
  for (const id of ids) {
    const layer = byId.get(id);
    const info = im.values[id];
    if (!layer || layer.op === 'quantize' || layer.op === 'dequantize' || info.scales.length !== 1) continue;
    const ins = [];
    for (const i of layer.inputs) {
      const v = ref.get(i), vi = im.values[i];
      if (!v || !vi || vi.scales.length !== 1) break;
      const data = allocInt(vi.dtype, v.length);
      for (let k = 0; k < v.length; k++) data[k] = Math.round(v[k] / vi.scales[0]);
      ins.push({ data, shape: [n, ...vi.shape] });
    }
    const r = ref.get(id);
    if (ins.length !== layer.inputs.length || !r) continue;
    const got = execLayer(im, layer, ins, n).data;
    let m = 0;
    for (let k = 0; k < r.length; k++) m = Math.max(m, Math.abs(Math.round(r[k] / info.scales[0]) - got[k]));
    out.set(id, m);
  }
  return out;
}
