/** Train / pause / resume / cancel, the run's status line and the progress bar with ETA. */
import { formatDuration, formatFixed, formatInt, formatSmall } from '../../format.ts';
import { isLive, percentDone, type RunState } from '../../store/run-reducer.ts';
import { useController, useStudio } from '../../studio-context.tsx';

function statusText(run: RunState, backendReady: boolean): string {
  switch (run.status) {
    case 'idle':
      if (run.outcome === 'done') return `Finished: ${formatInt(run.summary?.steps ?? 0)} steps in ${formatDuration(run.summary?.seconds ?? NaN)}`;
      if (run.outcome === 'cancelled') return 'Cancelled';
      if (run.outcome === 'error') return 'Failed';
      return backendReady ? 'Ready' : 'Starting the compute backend…';
    case 'starting': return 'Loading data and building the model…';
    case 'running': return 'Training';
    case 'pausing': return 'Pausing after this step…';
    case 'paused': return `Paused at step ${run.pausedAtStep ?? run.progress?.step ?? 0}`;
    case 'resuming': return 'Resuming…';
    case 'cancelling': return 'Cancelling…';
  }
}

export function RunPanel() {
  const run = useStudio((s) => s.run);
  const backendReady = useStudio((s) => s.backend.status === 'ready');
  // Subscribing to the inputs of validation re-renders this panel when they change.
  useStudio((s) => s.settings);
  useStudio((s) => s.modelName);
  useStudio((s) => s.imported);
  const c = useController();
  const hasErrors = Object.keys(c.errors()).length > 0;
  const live = isLive(run.status);
  const pct = percentDone(run);
  const p = run.progress;
  const total = p?.totalSteps ?? run.totalSteps;
  const valueText = p ? `step ${p.step} of ${total}, ${pct.toFixed(0)}%, ETA ${formatDuration(p.etaSeconds)}` : `${pct.toFixed(0)}%`;

  return (
    <section className="panel run-panel" aria-label="Run">
      <div className="run-bar">
        <div className="buttons">
          <button type="button" className="primary" data-testid="train-button" disabled={live || hasErrors} onClick={() => c.start()}>
            {run.outcome ? 'Train again' : 'Train'}
          </button>
          <button type="button" data-testid="pause-button" disabled={run.status !== 'running'} onClick={() => c.pause()}>Pause</button>
          <button type="button" data-testid="resume-button" disabled={run.status !== 'paused'} onClick={() => c.resume()}>Resume</button>
          <button type="button" className="danger" data-testid="cancel-button" disabled={!live || run.status === 'cancelling'} onClick={() => c.cancel()}>Cancel</button>
        </div>
        <p className="run-status" data-testid="run-status" data-status={run.status} data-outcome={run.outcome ?? ''} role="status" aria-live="polite">
          {statusText(run, backendReady)}
        </p>
      </div>
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
