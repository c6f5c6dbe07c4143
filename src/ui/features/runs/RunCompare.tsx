/**
 * Two runs side by side: what differs in their settings, their accuracies (and the deployment check's agreement),
 * per-layer metrics joined by layer with the difference, and the activation histograms of one site overlaid.
 */
import { useState } from 'react';
import { HistogramOverlay } from '../../charts/HistogramOverlay.tsx';
import { formatFixed } from '../../format.ts';
import { showsAcc5 } from '../../store/data-slice.ts';
import { useStudio } from '../../studio-context.tsx';
import { commonHistogramSites, layerMetricsOf, layerRows, settingDiffs, type LayerMetric } from './run-compare-model.ts';

const METRIC_NAME: Record<LayerMetric, string> = { sqnr: 'SQNR (dB)', cosine: 'cosine', maxLsb: 'max |Δ| (LSB)', scale: 'activation scale' };
const fmt = (v: number | null, m: LayerMetric) => (v === null ? '–' : m === 'scale' ? v.toPrecision(4) : v === Infinity ? 'exact' : formatFixed(v, m === 'cosine' ? 5 : 2));

export function RunCompare() {
  const [ia, ib] = useStudio((s) => s.runs.compare);
  const list = useStudio((s) => s.runs.list);
  const acc5 = useStudio((s) => showsAcc5(s.data));
  const [site, setSite] = useState('');
  const [metric, setMetric] = useState<LayerMetric | ''>('');
  const a = list.find((r) => r.id === ia), b = list.find((r) => r.id === ib);
  if (!a || !b) {
    return list.length > 1 ? <p className="hint" data-testid="compare-hint">Pick a run as A and another as B to compare them side by side.</p> : null;
  }
  const diffs = settingDiffs(a, b);
  const metrics = layerMetricsOf(a, b);
  const m = metric && metrics.includes(metric) ? metric : metrics[0];
  const rows = m ? layerRows(a, b, m) : [];
  const sites = commonHistogramSites(a, b);
  const s = sites.includes(site) ? site : sites[0];
  const ha = a.histograms?.find((h) => h.node === s), hb = b.histograms?.find((h) => h.node === s);
  const accRows: [string, string, number, number][] = [['acc1', 'Acc@1', a.acc1, b.acc1], ...(acc5 ? [['acc5', 'Acc@5', a.acc5, b.acc5] as [string, string, number, number]] : [])];
  if (a.deploy && b.deploy) accRows.push(['agreement', 'Agreement (top-1)', a.deploy.agreement_top1, b.deploy.agreement_top1]);
  return (
    <div className="run-compare" data-testid="run-compare" data-a={a.id} data-b={b.id}>
      <h3>A: {a.name} · B: {b.name}</h3>
      <table className="results" data-testid="compare-accuracy">
        <thead><tr><th scope="col" /><th scope="col">A</th><th scope="col">B</th><th scope="col">B − A</th></tr></thead>
        <tbody>
          {accRows.map(([key, name, va, vb]) => (
            <tr key={key} data-testid={`compare-${key}`} data-a={va} data-b={vb}>
              <td>{name}</td><td>{formatFixed(va, 2)}%</td><td>{formatFixed(vb, 2)}%</td><td>{vb - va >= 0 ? '+' : ''}{formatFixed(vb - va, 2)}</td>
            </tr>
          ))}
        </tbody>
      </table>
      <p className="hint" data-testid="compare-settings" data-diffs={diffs.length}>
        {diffs.length === 0 ? 'Same settings.' : `Settings that differ: ${diffs.map((d) => `${d.key} ${d.a} → ${d.b}`).join('; ')}.`}
      </p>
      {m && (
        <>
          <div className="field inline">
            <label htmlFor="compare-metric">Per-layer</label>
            <select id="compare-metric" data-testid="compare-metric" value={m} onChange={(e) => setMetric(e.target.value as LayerMetric)}>
              {metrics.map((x) => <option key={x} value={x}>{METRIC_NAME[x]}</option>)}
            </select>
          </div>
          <table className="results" data-testid="compare-layers" data-rows={rows.length} data-metric={m}>
            <thead><tr><th scope="col">Layer</th><th scope="col">A</th><th scope="col">B</th><th scope="col">{m === 'scale' ? 'B / A' : 'B − A'}</th></tr></thead>
            <tbody>
              {rows.map((r) => {
                const d = r.a === null || r.b === null || !Number.isFinite(r.a) || !Number.isFinite(r.b) ? null : m === 'scale' ? r.b / r.a : r.b - r.a;
                return (
                  <tr key={r.name} data-testid="compare-layer-row" data-layer={r.name}>
                    <td>{r.name}</td><td>{fmt(r.a, m)}</td><td>{fmt(r.b, m)}</td><td>{d === null ? '–' : m === 'scale' ? `×${d.toPrecision(3)}` : `${d >= 0 ? '+' : ''}${formatFixed(d, m === 'cosine' ? 5 : 2)}`}</td>
                  </tr>
                );
              })}
            </tbody>
          </table>
        </>
      )}
      {ha && hb ? (
        <>
          <div className="field inline">
            <label htmlFor="compare-site">Histogram of</label>
            <select id="compare-site" data-testid="compare-site" value={s} onChange={(e) => setSite(e.target.value)}>
              {sites.map((x) => <option key={x} value={x}>{x}</option>)}
            </select>
          </div>
          <HistogramOverlay a={ha} b={hb} />
        </>
      ) : <p className="hint" data-testid="compare-no-histograms">Histograms are kept by calibration runs: compare two calibrations to overlay them.</p>}
    </div>
  );
}
