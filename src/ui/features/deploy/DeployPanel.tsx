/**
 * The Deploy panel: the deployment check (the fixed-point simulator in its own worker against the fake-quant model
 * in the training worker, on a chosen subset of the loaded data) with progress and cancel; agreement and accuracy,
 * the per-output table (every output of any shape), the per-layer table (click a row to jump to the node in the graph), the performance estimate per march, and
 * downloads of the model file, the ONNX QDQ file and a JSON report.
 */
import { formatFixed } from '../../format.ts';
import type { DeployJob } from '../../store/deploy-slice.ts';
import { useStudio } from '../../studio-context.tsx';
import { deployBlocker } from './deploy-controller.ts';
import { useDeploy } from './deploy-context.tsx';
import { AccumulatorWarnings } from './AccumulatorWarnings.tsx';
import { DeployDownloads } from './DeployDownloads.tsx';
import { DeploySettings } from './DeploySettings.tsx';
import { DeploySummary } from './DeploySummary.tsx';
import { LayerTable } from './LayerTable.tsx';
import { OutputTable } from './OutputTable.tsx';
import { PerfTable } from './PerfTable.tsx';
import { PredictionsView } from './PredictionsView.tsx';
import './deploy.css';

function statusText(j: DeployJob, blocker: string | null): string {
  if (j.status === 'running') {
    if (j.totalImages === 0) return 'Converting the model, writing the model file and the ONNX export…';
    return `Deployment check: ${j.images} / ${j.totalImages} images${Number.isFinite(j.simImagesPerSecond) ? `, simulator ${Math.round(j.simImagesPerSecond)} images/s` : ''}`;
  }
  if (j.status === 'cancelling') return 'Cancelling…';
  if (j.outcome === 'done') return 'Deployment check finished';
  if (j.outcome === 'cancelled') return 'Deployment check cancelled';
  if (j.outcome === 'error') return 'Deployment check failed';
  return blocker ?? 'Ready to run the deployment check';
}

export function DeployPanel() {
  const job = useStudio((s) => s.deploy.job);
  const blocker = useStudio(deployBlocker);
  const hasResult = useStudio((s) => !!s.deploy.result);
  const hasArtifacts = useStudio((s) => !!s.deploy.artifacts);
  const hasQuant = useStudio((s) => !!(s.checkpoints.calib || s.checkpoints.qat));
  const ctl = useDeploy();
  const live = job.status !== 'idle';
  const pct = job.totalImages > 0 ? (100 * job.images) / job.totalImages : 0;

  return (
    <section className="panel" data-testid="panel-deploy" aria-labelledby="deploy-h">
      <h2 id="deploy-h">Deploy</h2>
      <div className="deploy-grid">
        <div>
          <DeploySettings disabled={live} />
          <div className="run-bar">
            <div className="buttons">
              <button type="button" className="primary" data-testid="deploy-run-button" disabled={live || !!blocker} title={blocker ?? undefined} onClick={() => ctl.start()}>Run deployment check</button>
              <button type="button" className="danger" data-testid="deploy-cancel-button" disabled={job.status !== 'running'} title={job.status !== 'running' ? 'Cancels a deployment check in progress.' : undefined} onClick={() => ctl.cancel()}>Cancel</button>
            </div>
          </div>
          <p className="run-status" data-testid="deploy-status" data-status={job.status} data-outcome={job.outcome ?? ''} role="status" aria-live="polite">
            {statusText(job, blocker)}
          </p>
          <div className="progress" role="progressbar" data-testid="deploy-progress" aria-label="Deployment check progress" aria-valuemin={0} aria-valuemax={100}
            aria-valuenow={Math.round(pct)} data-done={job.images} data-total={job.totalImages}>
            <div className="progress-fill" style={{ width: `${pct}%` }} />
          </div>
          {job.outcome === 'error' && job.error && (
            <div className="error" role="alert" data-testid="deploy-error"><strong>Deployment check failed:</strong> <code>{job.error}</code></div>
          )}
          {!hasQuant && !live && (
            <p className="empty-state" data-testid="deploy-empty" data-reason="no-model">Calibrate or run QAT first (step 4): the check converts that model to fixed point.</p>
          )}
          {hasQuant && !hasArtifacts && !live && (
            <p className="empty-state" data-testid="deploy-empty" data-reason="not-run">
              Run the check: the model is converted to fixed point, compared with the fake-quant model image by image and layer by layer, and its files become downloadable.
            </p>
          )}
          <AccumulatorWarnings />
          <DeploySummary />
          <OutputTable />
          <DeployDownloads />
        </div>
        <div>
          {hasResult ? <LayerTable /> : hasArtifacts && live && <p className="empty-state">The per-layer table appears when the check is done ({formatFixed(pct, 0)}%).</p>}
          <PerfTable />
        </div>
      </div>
      <PredictionsView />
    </section>
  );
}
