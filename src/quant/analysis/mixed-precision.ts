/**
 * Mixed precision against speed: for k = 0…all, the accuracy and output distance of "int16 for the top k sites of
 * the sensitivity ranking" and its estimated latency on the march (src/perf/estimate.ts, on the integer model those
 * settings convert to), so the user can pick a point of the curve.
 */
import type { Backend } from '../../engine/backend.ts';
import type { Batch } from '../../data/loader.ts';
import type { HostParams } from '../../nn/params.ts';
import { estimatePerf, MARCH_SPECS, type PerfEstimate } from '../../perf/estimate.ts';
import { convert } from '../convert.ts';
import type { March } from '../march.ts';
import { prepare } from '../prepare.ts';
import type { QuantizedModel } from '../quantized-model.ts';
import type { DistanceMetric } from './distance.ts';
import { analysedOutputs, outputsDistance } from './outputs.ts';
import { withInt16Sites } from './int16-sites.ts';
import { acc1Of } from './sensitivity.ts';
import { int16For, siteKey, type SiteRef } from './site-precision.ts';
import { engineOutputs, passOutputs, type PassOptions } from './stage-runner.ts';

export interface MixedPrecisionPoint {
  k: number;
  /** The sites in int16 ("activation:ID" / "weight:ID"). */
  int16_sites: string[];
  acc1: number;
  distance: number;
  latency_ms: number;
  fps: number;
}

export interface MixedPrecisionOptions extends PassOptions {
  onPoint?: (p: MixedPrecisionPoint, total: number) => void;
}

/**
 * The estimate of the integer model with `sites` in int16. The converter produces int8 weights only, so int16
 * weights are costed here: their layers' MACs at the march's int16 cost and their weights at two bytes.
 */
export function estimateWithInt16(base: QuantizedModel, host: HostParams, scales: (s: SiteRef) => number | undefined, sites: readonly SiteRef[], march: March): PerfEstimate {
  const acts = sites.filter((s) => s.kind === 'activation');
  // Converted with int8 weights everywhere; the wide ones (asked for here, or already in the base qconfig) are costed below.
  const qc = withInt16Sites(base.plan.qconfig, acts);
  const plan = prepare(base.plan.graph, { ...qc, overrides: [...qc.overrides, { match: '*', weight: { dtype: 'qint8' } }] });
  const actScales: Record<string, number> = {};
  for (const a of plan.acts) {
    const s = scales({ site: a.node, kind: 'activation' });
    if (s !== undefined) actScales[a.node] = s;
  }
  const est = estimatePerf(convert(plan, host, actScales), march);
  const wide = new Set([...sites.filter((s) => s.kind === 'weight').map((s) => s.site), ...base.plan.weights.filter((w) => w.quantMax > 127).map((w) => w.node)]);
  if (!wide.size) return est;
  const spec = MARCH_SPECS[march];
  const layers = est.layers.map((l) => {
    if (!wide.has(l.name)) return l;
    const macs = l.macs_int8xint8 + l.macs_int16xint8;
    const w = base.plan.weights.find((x) => x.node === l.name);
    const extra = w ? host[w.param]?.length ?? 0 : 0;
    const ddr = l.ddr_bytes + extra;
    const computeUs = ((2 * spec.int16Cost * macs) / (spec.peakTops * 1e12)) * 1e6;
    const memoryUs = (ddr / (spec.ddrGBps * 1e9)) * 1e6;
    return { ...l, macs_int8xint8: 0, macs_int16xint8: macs, param_bytes: l.param_bytes + extra, ddr_bytes: ddr, compute_us: computeUs, memory_us: memoryUs,
      latency_us: Math.max(computeUs, memoryUs), bound: computeUs >= memoryUs ? 'compute' as const : 'memory' as const };
  });
  const latencyMs = layers.reduce((s, l) => s + l.latency_us, 0) / 1000;
  return { ...est, layers, totals: { ...est.totals, latency_ms: latencyMs, fps: latencyMs > 0 ? (1000 * est.batch) / latencyMs : Infinity } };
}

export async function mixedPrecisionCurve(be: Backend, base: QuantizedModel, int16: QuantizedModel, batches: readonly Batch[], ranking: readonly SiteRef[],
  metric: DistanceMetric, march: March, o: MixedPrecisionOptions = {}): Promise<MixedPrecisionPoint[]> {
  const g = base.plan.graph, outs = analysedOutputs(g);
  const n = batches.reduce((s, b) => s + b.n, 0);
  const host = await base.store.toHost();
  const s8 = (await base.scales()).activations, s16 = (await int16.scales()).activations;
  const ref = await passOutputs(batches, outs, (b) => engineOutputs(be, g, base.store, undefined, b), o);
  const points: MixedPrecisionPoint[] = [];
  for (let top = 0; top <= ranking.length; top++) {
    const sites = ranking.slice(0, top);
    const wide = new Set(sites.map(siteKey));
    const got = await passOutputs(batches, outs, (b) => engineOutputs(be, g, base.store, int16For(base, int16, sites), b), o);
    const est = estimateWithInt16(base, host, (s) => (wide.has(siteKey(s)) ? s16 : s8)[s.site], sites, march);
    const p: MixedPrecisionPoint = {
      k: top, int16_sites: sites.map(siteKey), acc1: acc1Of(got, batches, outs), distance: outputsDistance(metric, outs, ref, got, n),
      latency_ms: est.totals.latency_ms, fps: est.totals.fps,
    };
    points.push(p);
    o.onPoint?.(p, ranking.length + 1);
  }
  return points;
}
