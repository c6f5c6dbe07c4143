/**
 * What the run comparison shows, computed from two runs: the settings that differ, the accuracies side by side,
 * per-layer metrics joined by layer (a deployment check's SQNR / cosine / max LSB, or a calibration's and QAT's
 * activation scales), and the activation sites both have histograms of. Pure.
 */
import type { RunRecord } from '../../store/runs-slice.ts';

export interface SettingDiff { key: string; a: string; b: string }
export interface LayerRow { name: string; a: number | null; b: number | null }

const show = (v: unknown): string => (Array.isArray(v) ? (v.length ? JSON.stringify(v) : 'none') : v === '' ? 'template' : String(v));

export function settingDiffs(a: RunRecord, b: RunRecord): SettingDiff[] {
  const keys = [...new Set([...Object.keys(a.quant), ...Object.keys(b.quant)])] as (keyof RunRecord['quant'])[];
  const out: SettingDiff[] = keys.map((k) => ({ key: k, a: show(a.quant[k]), b: show(b.quant[k]) })).filter((d) => d.a !== d.b);
  for (const k of ['images', 'split', 'batchSize', 'source'] as const) {
    const va = a.deploySettings?.[k], vb = b.deploySettings?.[k];
    if ((va !== undefined || vb !== undefined) && va !== vb) out.push({ key: `deploy ${k}`, a: show(va ?? '–'), b: show(vb ?? '–') });
  }
  if (a.kind !== b.kind) out.unshift({ key: 'kind', a: a.kind, b: b.kind });
  return out;
}

export type LayerMetric = 'sqnr' | 'cosine' | 'maxLsb' | 'scale';

/** The per-layer metrics both runs can show: the deployment check's when both have one, the activation scales when both have them. */
export function layerMetricsOf(a: RunRecord, b: RunRecord): LayerMetric[] {
  return [...(a.deploy && b.deploy ? ['sqnr', 'cosine', 'maxLsb'] as const : []), ...(a.scales && b.scales ? ['scale'] as const : [])];
}

export function layerRows(a: RunRecord, b: RunRecord, m: LayerMetric): LayerRow[] {
  const val = (r: RunRecord, name: string): number | null => {
    if (m === 'scale') return r.scales?.activations[name] ?? null;
    const l = r.deploy?.layers.find((x) => x.name === name);
    return l ? (m === 'sqnr' ? l.sqnr_db : m === 'cosine' ? l.cosine : l.max_lsb) : null;
  };
  const names = m === 'scale'
    ? [...new Set([...Object.keys(a.scales?.activations ?? {}), ...Object.keys(b.scales?.activations ?? {})])]
    : [...new Set([...(a.deploy?.layers ?? []), ...(b.deploy?.layers ?? [])].map((l) => l.name))];
  return names.map((name) => ({ name, a: val(a, name), b: val(b, name) }));
}

/** Sites both runs have a histogram of, the one whose clip ranges differ most first (then in A's order). */
export function commonHistogramSites(a: RunRecord, b: RunRecord): string[] {
  const inB = new Map((b.histograms ?? []).map((h) => [h.node, h]));
  const width = (c: [number, number]) => Math.max(1e-12, c[1] - c[0]);
  const gap = (node: string) => {
    const ha = a.histograms!.find((h) => h.node === node)!, hb = inB.get(node)!;
    return Math.abs(Math.log(width(ha.clip) / width(hb.clip)));
  };
  const sites = (a.histograms ?? []).map((h) => h.node).filter((n) => inB.has(n));
  if (sites.length < 2) return sites;
  const most = sites.reduce((m, n) => (gap(n) > gap(m) ? n : m), sites[0]);
  return [most, ...sites.filter((n) => n !== most)];
}
