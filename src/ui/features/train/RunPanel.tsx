/**
 * Train / Evaluate / pause / resume / cancel, the run's status line and the progress bar with ETA. Evaluate runs the
 * current model (its kept float checkpoint, or an imported model's own weights) on the current test images. A
 * disabled Train or Evaluate says why.
 */
import { formatDuration, formatFixed, formatInt, formatSmall } from '../../format.ts';
import type { FloatResult } from '../../store/quant-slice.ts';
import { isLive, percentDone, type RunState } from '../../store/run-reducer.ts';
import { useController, useStudio } from '../../studio-context.tsx';
import { stageBlocker } from '../stage-blockers.ts';

const floatText = (f: FloatResult | null) => (f ? `the float model ${f.how === 'evaluated' ? 'evaluated' : 'trained'} before stays (Acc@1 ${formatFixed(f.acc1, 2)} %)` : 'there is no float model yet');

function statusText(run: RunState, backendReady: boolean, float: FloatResult | null): string {
  const evaluating = run.config?.mode === 'evaluate';
  switch (run.status) {
    case 'idle':
      if (run.outcome === 'done' && evaluating) return `Evaluated on ${formatInt(run.testImages)} test images: Acc@1 ${formatFixed(run.epochs.at(-1)?.acc1 ?? NaN, 2)} %`;
      if (run.outcome === 'done') return `Finished: ${formatInt(run.summary?.steps ?? 0)} steps in ${formatDuration(run.summary?.seconds ?? NaN)}`;
      if (run.outcome === 'cancelled') return `${evaluating ? 'Evaluation' : 'Run'} cancelled: ${floatText(float)}`;
      if (run.outcome === 'error') return 'Failed';
      return backendReady ? 'Ready' : 'Starting the compute backend…';
    case 'starting': return 'Loading data and building the model…';
    case 'running': return evaluating ? 'Evaluating' : 'Training';
    case 'pausing': return 'Pausing after this step…';
    case 'paused': return `Paused at step ${run.pausedAtStep ?? run.progress?.step ?? 0}`;
    case 'resuming': return 'Resuming…';
    case 'cancelling': return 'Cancelling…';
  }
}

export function RunPanel() {
  const run = useStudio((s) => s.run);
  const backendReady = useStudio((s) => s.backend.status === 'ready');
  const float = useStudio((s) => s.quant.float);
  const c = useController();
  const trainWhy = useStudio((s) => stageBlocker(s, 'train', c.config()));
  const evalWhy = useStudio((s) => stageBlocker(s, 'evaluate', c.config()));
  const live = isLive(run.status);
  const pct = percentDone(run);
  const p = run.progress;
  const total = p?.totalSteps ?? run.totalSteps;
  const valueText = p ? `step ${p.step} of ${total}, ${pct.toFixed(0)}%, ETA ${formatDuration(p.etaSeconds)}` : `${pct.toFixed(0)}%`;

  return (
    <section className="panel run-panel" aria-label="Run">
      <div className="run-bar">
        <div className="buttons">
          <button type="button" className="primary" data-testid="train-button" disabled={live || !!trainWhy} onClick={() => c.start()}
            title={trainWhy ?? undefined} aria-describedby={trainWhy && !live ? 'train-why' : undefined}>
            {run.outcome && run.config?.mode !== 'evaluate' ? 'Train again' : 'Train'}
          </button>
          <button type="button" data-testid="evaluate-button" disabled={live || !!evalWhy} onClick={() => c.evaluate()}
            title={evalWhy ?? 'Evaluate the current model on the test images (no training)'} aria-describedby={evalWhy && !live ? 'evaluate-why' : undefined}>
            Evaluate
          </button>
          <button type="button" data-testid="pause-button" disabled={run.status !== 'running'} title={run.status !== 'running' ? 'Pauses a run in progress.' : undefined} onClick={() => c.pause()}>Pause</button>
          <button type="button" data-testid="resume-button" disabled={run.status !== 'paused'} title={run.status !== 'paused' ? 'Resumes a paused run.' : undefined} onClick={() => c.resume()}>Resume</button>
          <button type="button" className="danger" data-testid="cancel-button" disabled={!live || run.status === 'cancelling'} title={!live ? 'Cancels a run in progress.' : run.status === 'cancelling' ? 'Cancelling: the run stops after the current step.' : undefined} onClick={() => c.cancel()}>Cancel</button>
        </div>
        <p className="run-status" data-testid="run-status" data-status={run.status} data-outcome={run.outcome ?? ''} role="status" aria-live="polite">
          {statusText(run, backendReady, float)}
        </p>
      </div>
      {!live && trainWhy && <p className="why" id="train-why" data-testid="train-why">Train: {trainWhy}</p>}
      {!live && evalWhy && evalWhy !== trainWhy && <p className="why" id="evaluate-why" data-testid="evaluate-why">Evaluate: {evalWhy}</p>}
      <div className="progress" role="progressbar" data-testid="progress-bar" aria-label="Training progress"
        aria-valuemin={0} aria-valuemax={100} aria-valuenow={Math.round(pct * 10) / 10} aria-valuetext={valueText}
        data-step={p?.step ?? 0} data-total-steps={total}>
        <div className="progress-fill" style={{ width: `${pct}%` }} data-status={run.status} />
      </div>
      <dl className="stats" data-testid="run-stats">
        <div><dt>Epoch</dt><dd>{p ? `${p.epoch + 1} / ${run.config?.epochs ?? '–'}` : '–'}</dd></div>
        <div><dt>Step</dt><dd data-testid="run-step">{p ? `${formatInt(p.step)} / ${formatInt(total)}` : '–'}</dd></div>
        <div><dt>Images</dt><dd>{p ? `${formatInt(p.imagesDone)} / ${formatInt(p.totalImages)}` : '–'}</dd></div>
        <div><dt>Loss</dt><dd>{p ? formatFixed(p.loss, 4) : '–'}</dd></div>
        <div><dt>LR</dt><dd>{p ? formatSmall(p.lr) : '–'}</dd></div>
        <div><dt>Images/s</dt><dd>{p ? formatFixed(p.imagesPerSecond, 1) : '–'}</dd></div>
        <div><dt>ETA</dt><dd data-testid="run-eta">{p && live ? formatDuration(p.etaSeconds) : '–'}</dd></div>
      </dl>
      {run.outcome === 'error' && run.error && (
        <div className="error" role="alert" data-testid="run-error">
          <strong>Training failed:</strong> <code>{run.error}</code>
        </div>
      )}
    </section>
  );
}
