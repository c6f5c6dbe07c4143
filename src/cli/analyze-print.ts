/** Fixed-width tables of the analyze stage's layer comparison and sensitivity ranking. */
import type { LayerComparison } from '../quant/analysis/layer-stats.ts';
import type { SensitivityEntry } from '../quant/analysis/sensitivity.ts';
import { formatDistance } from '../quant/analysis/distance.ts';

function table(head: string[], rows: string[][]): string {
  const w = head.map((h, i) => Math.max(h.length, ...rows.map((r) => r[i].length)));
  const line = (r: string[]) => r.map((c, i) => (i === 0 ? c.padEnd(w[i]) : c.padStart(w[i]))).join('  ');
  return [line(head), ...rows.map(line)].join('\n');
}

const g = (x: number) => (Number.isFinite(x) ? x.toPrecision(4) : 'exact');
const pct = (x: number | null) => (x === null ? '-' : (100 * x).toFixed(2));

export function printLayers(ls: LayerComparison[]): void {
  console.log(table(['layer', 'cosine', 'SQNR dB', 'max |err|', 'mean err', 'a min', 'a max', 'b min', 'b max', 'a clip %', 'b clip %'],
    ls.map((l) => [l.name, l.cosine.toFixed(6), Number.isFinite(l.sqnr_db) ? l.sqnr_db.toFixed(1) : 'exact', g(l.max_abs_error), g(l.mean_error),
      g(l.a.min), g(l.a.max), g(l.b.min), g(l.b.max), pct(l.a.clipped), pct(l.b.clipped)])));
}

/** Without labels (or without an output of class scores) the accuracy columns are left out: distances only. */
export function printSensitivity(es: SensitivityEntry[]): void {
  const acc = es.some((e) => Number.isFinite(e.acc1_only_this_quantized));
  const m = es[0]?.metric ?? '';
  console.log(table(acc ? ['site', 'kind', `${m} only quantized`, 'Acc@1 only quantized', `only float`, 'Acc@1 only float'] : ['site', 'kind', `${m} only quantized`, `only float`],
    es.map((e) => {
      const q = formatDistance(e.metric, e.distance_only_this_quantized), f = formatDistance(e.metric, e.distance_only_this_float);
      return acc ? [e.site, e.kind, q, e.acc1_only_this_quantized.toFixed(2), f, e.acc1_only_this_float.toFixed(2)] : [e.site, e.kind, q, f];
    })));
}
