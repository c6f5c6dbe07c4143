/**
 * The Analyze panel (issue 13): which inputs break the quantized model and which layer is to blame. Runs in the
 * training worker with progress and cancel: bad cases with their images, the layer comparison (curve, table, graph
 * overlay), weights, the sensitivity ranking with "int16 for the top K sites", and the mixed-precision curve.
 */
import type { AnalysisJob } from '../../store/analysis-slice.ts';
import { useStudio } from '../../studio-context.tsx';
import { analysisBlocker } from './analysis-controller.ts';
import { useAnalysis } from './analysis-context.tsx';
import { AnalysisSettings } from './AnalysisSettings.tsx';
import { BadCases } from './BadCases.tsx';
import { LayerView } from './LayerView.tsx';
import { SensitivityView } from './SensitivityView.tsx';
import { WeightView } from './WeightView.tsx';
import './analysis.css';

function statusText(j: AnalysisJob, blocker: string | null): string {
  const what = j.kind === 'int16' ? 'int16 check' : 'Analysis';
  if (j.status === 'running') return j.total ? `${what}: ${j.phase} ${j.done} / ${j.total}` : `${what}: starting…`;
  if (j.status === 'cancelling') return 'Cancelling…';
  if (j.outcome === 'done') return `${what} finished`;
  if (j.outcome === 'cancelled') return `${what} cancelled`;
  if (j.outcome === 'error') return `${what} failed`;
  return blocker ?? 'Ready to analyse';
}

export function AnalysisPanel() {
  const job = useStudio((s) => s.analysis.job);
  const result = useStudio((s) => s.analysis.result);
  const blocker = useStudio(analysisBlocker);
  const ctl = useAnalysis();
  const live = job.status !== 'idle';
  const pct = job.total > 0 ? (100 * job.done) / job.total : 0;
  const r = result?.report;
  return (
    <section className="panel" data-testid="panel-analysis" aria-labelledby="analysis-h">
      <h2 id="analysis-h">Precision analysis</h2>
      <AnalysisSettings disabled={live} />
      <div className="run-bar">
        <div className="buttons">
          <button type="button" className="primary" data-testid="analysis-run-button" disabled={live || !!blocker}
            title={live ? 'An analysis is running.' : blocker ?? undefined} onClick={() => ctl.start()}>Analyse</button>
          <button type="button" className="danger" data-testid="analysis-cancel-button" disabled={job.status !== 'running'}
            title={job.status !== 'running' ? 'Cancels an analysis in progress.' : undefined} onClick={() => ctl.cancel()}>Cancel</button>
        </div>
      </div>
      <p className="run-status" data-testid="analysis-status" data-status={job.status} data-outcome={job.outcome ?? ''} data-kind={job.kind ?? ''} role="status" aria-live="polite">
        {statusText(job, blocker)}
      </p>
      <div className="progress" role="progressbar" data-testid="analysis-progress" aria-label="Analysis progress" aria-valuemin={0} aria-valuemax={100} aria-valuenow={Math.round(pct)}>
        <div className="progress-fill" style={{ width: `${pct}%` }} />
      </div>
      {job.outcome === 'error' && job.error && <div className="error" role="alert" data-testid="analysis-error"><strong>Failed:</strong> <code>{job.error}</code></div>}
      {!result && !live && (
        <p className="empty-state" data-testid="analysis-empty">
          Compares the float and quantized models image by image and layer by layer, and ranks the quantized sites by what quantizing each one costs.
        </p>
      )}
      {result && r && (
        <div className="analysis-results" data-testid="analysis-results" data-model={r.model} data-data={result.dataName} data-checkpoint={r.checkpoint}>
          <p className="hint">Model {r.model}, {r.checkpoint} checkpoint, {r.images} test images of {result.dataName} ({result.seconds.toFixed(1)} s).</p>
          <BadCases result={result} />
          <LayerView report={r} />
          <SensitivityView report={r} busy={live || !!blocker} />
          <WeightView report={r} />
        </div>
      )}
    </section>
  );
}
