/**
 * The sensitivity ranking (worst first) with the one-click "int16 for the top K sites" check, and the mixed-precision
 * curve (accuracy against the estimated latency of int16 for the top k sites; a point click sets K). Without labels
 * or without an output of class scores: no accuracy columns, the distances only (the curve plots the distance).
 */
import { useId } from 'react';
import type { AnalyzeReport } from '../../../quant/analysis/report.ts';
import { formatDistance } from '../../../quant/analysis/distance.ts';
import { useStudio } from '../../studio-context.tsx';
import { useAnalysis } from './analysis-context.tsx';
import { XYChart } from './XYChart.tsx';


export function SensitivityView({ report, busy }: { report: AnalyzeReport; busy: boolean }) {
  const topK = useStudio((s) => s.analysis.settings.topK);
  const set = useStudio((s) => s.setAnalysisSetting);
  const int16 = useStudio((s) => s.analysis.int16);
  const ctl = useAnalysis();
  const id = useId();
  const s = report.sensitivity_summary;
  if (!report.sensitivity.length || !s) return null;
  // JSON (a stored analysis) writes NaN as null
  const acc = typeof s.acc1_float === 'number' && Number.isFinite(s.acc1_float);
  const outputs = (report.outputs?.length ?? 1) > 1 ? `the ${report.outputs!.length} outputs` : 'the output';
  return (
    <div className="analysis-block">
      <h3>Sensitivity per site ({report.metric} of {outputs} to the float model)</h3>
      <p className="hint">
        {acc ? <>Float Acc@1 {s.acc1_float.toFixed(2)} %, all sites quantized {s.acc1_quantized.toFixed(2)} %</> : <>All sites quantized: {report.metric} {formatDistance(report.metric, s.distance_quantized)} (no labels or no class scores: distances only)</>}
        {' '}on {s.images} images ({s.seconds.toFixed(1)} s).
      </p>
      <div className="table-scroll">
        <table className="data-table" data-testid="analysis-sensitivity-table" data-acc={acc ? 'yes' : 'no'}>
          <thead><tr><th>#</th><th>site</th><th>kind</th><th>only it quantized: {report.metric}</th>{acc && <th>Acc@1</th>}<th>only it float: {report.metric}</th>{acc && <th>Acc@1</th>}</tr></thead>
          <tbody>
            {report.sensitivity.map((e, i) => (
              <tr key={`${e.kind}:${e.site}`} data-testid="analysis-sensitivity-row" data-site={e.site} data-kind={e.kind} className={i < topK ? 'picked' : ''}>
                <td>{i + 1}</td><td>{e.site}</td><td>{e.kind}</td><td>{formatDistance(report.metric, e.distance_only_this_quantized)}</td>{acc && <td>{e.acc1_only_this_quantized.toFixed(2)}</td>}
                <td>{formatDistance(report.metric, e.distance_only_this_float)}</td>{acc && <td>{e.acc1_only_this_float.toFixed(2)}</td>}
              </tr>
            ))}
          </tbody>
        </table>
      </div>
      <div className="run-bar">
        <div className="field inline">
          <label htmlFor={`${id}-k`}>K</label>
          <input id={`${id}-k`} type="number" data-testid="analysis-top-k" min={1} max={report.sensitivity.length} step={1} value={Number.isNaN(topK) ? '' : topK}
            onChange={(e) => set('topK', e.target.value.trim() === '' ? NaN : Number(e.target.value))} />
        </div>
        <button type="button" className="primary" data-testid="analysis-int16-button" disabled={busy || !(topK >= 1)}
          title={busy ? 'Locked while a job runs.' : !(topK >= 1) ? `K must be a whole number from 1 to ${report.sensitivity.length}.` : undefined} onClick={() => ctl.int16Top()}>
          int16 for the top {Number.isFinite(topK) ? topK : 'K'} sites: re-evaluate
        </button>
      </div>
      {int16 && (
        <p className="run-status" data-testid="analysis-int16-result" data-before={int16.acc1_before} data-after={int16.acc1_after}
          data-sqnr-before={int16.sqnr_before ?? ''} data-sqnr-after={int16.sqnr_after ?? ''}>
          int16 for {int16.sites.map((x) => `${x.site} (${x.kind})`).join(', ')}:{' '}
          {Number.isFinite(int16.acc1_before)
            ? <>Acc@1 {int16.acc1_before.toFixed(2)} % → {int16.acc1_after.toFixed(2)} % (float {int16.acc1_float.toFixed(2)} %, {int16.images} images).</>
            : <>output SQNR to the float model {formatDistance('sqnr', int16.sqnr_before ?? null)} → {formatDistance('sqnr', int16.sqnr_after ?? null)} dB ({int16.images} images).</>}
          {' '}Put these sites in the qconfig overrides of step 4 to keep it.
        </p>
      )}
      {report.mixed_precision && (
        <>
          <h3>Mixed precision: int16 for the top k sites</h3>
          <XYChart testId="analysis-mixed-chart" xLabel={`estimated latency (ms, ${report.march})`} yLabel={acc ? 'Acc@1 (%)' : report.metric}
            points={report.mixed_precision.map((p) => acc
              ? { x: p.latency_ms, y: p.acc1, key: String(p.k), label: `k=${p.k}: ${p.acc1.toFixed(2)} %, ${p.latency_ms.toFixed(4)} ms` }
              : { x: p.latency_ms, y: p.distance ?? Infinity, key: String(p.k), label: `k=${p.k}: ${report.metric} ${formatDistance(report.metric, p.distance)}, ${p.latency_ms.toFixed(4)} ms` })}
            onPick={(p) => set('topK', Math.max(1, Number(p.key)))} />
        </>
      )}
    </div>
  );
}
