/**
 * The Quantize panel: settings and per-node overrides, Calibrate and QAT on the loaded data (in the
 * training worker, with progress and cancel), accuracy per stage, QAT curves, activation histograms.
 */
import { formatDuration } from '../../format.ts';
import { LossChart } from '../../charts/LossChart.tsx';
import { useQuant } from '../../controllers-context.tsx';
import type { QuantJob } from '../../store/quant-slice.ts';
import { stageBlocker } from '../stage-blockers.ts';
import { useStudio } from '../../studio-context.tsx';
import { useModelGraphs } from '../graph/use-model-graph.ts';
import { AccuracyTable } from './AccuracyTable.tsx';
import { OutputSimilarityTable } from './OutputSimilarityTable.tsx';
import { PtqResults } from './PtqResults.tsx';
import { HistogramList } from './HistogramList.tsx';
import { OverridesEditor, type OverrideTarget } from './OverridesEditor.tsx';
import { QuantSettings } from './QuantSettings.tsx';
import { QatEpochSimilarity } from './QatEpochSimilarity.tsx';

function statusText(j: QuantJob, calibWhy: string | null, model: string): string {
  const what = j.stage === 'qat' ? 'QAT' : j.phase === 'adaround' ? 'Calibration, AdaRound' : j.phase === 'auto-calib' ? 'Calibration, automatic calibration' : 'Calibration';
  const unit = j.stage === 'qat' || j.phase === 'adaround' ? 'steps' : j.phase === 'auto-calib' ? 'trials' : 'batches';
  if (j.status === 'running') return `${what}: ${j.done} / ${j.total || '…'} ${unit}${Number.isFinite(j.etaSeconds) && j.done > 0 ? `, ETA ${formatDuration(j.etaSeconds)}` : ''}`;
  if (j.status === 'cancelling') return 'Cancelling…';
  if (j.outcome === 'done') return `${what} finished`;
  if (j.outcome === 'cancelled') return `${what} cancelled`;
  if (j.outcome === 'error') return `${what} failed`;
  return calibWhy ?? `Ready to calibrate ${model}`;
}

export function QuantizePanel() {
  const job = useStudio((s) => s.quant.job);
  const hasCalib = useStudio((s) => !!s.quant.calib);
  const model = useStudio((s) => s.scope?.modelLabel ?? '');
  const qatLosses = useStudio((s) => s.quant.liveLosses);
  const qatEpochs = useStudio((s) => s.quant.liveEpochs);
  const ctl = useQuant();
  const g = useModelGraphs();
  const live = job.status !== 'idle';
  const calibWhy = useStudio((s) => stageBlocker(s, 'calibrate', { ...s.settings, model: '' })) ?? (g.error ? `The model cannot be prepared: ${g.error}` : null);
  const qatWhy = useStudio((s) => stageBlocker(s, 'qat', { ...s.settings, model: '' })) ?? (g.error ? `The model cannot be prepared: ${g.error}` : null);
  const targets: OverrideTarget[] = (g.planFused?.acts ?? []).map((a) => {
    const n = g.fused.nodes.find((x) => x.id === a.node)!;
    return { id: a.node, op: n.op, int32Capable: false };
  }).concat((g.planFused?.int32Outputs ?? []).map((id) => ({ id, op: g.fused.nodes.find((x) => x.id === id)!.op, int32Capable: true })));
  const pct = job.total > 0 ? (100 * job.done) / job.total : 0;

  return (
    <section className="panel" data-testid="panel-quantize" aria-labelledby="quant-h">
      <h2 id="quant-h">Quantize</h2>
      <div className="quant-grid">
        <div>
          <QuantSettings disabled={live} />
          {live && <p className="why" data-testid="quant-settings-why">The settings are locked while {job.stage === 'qat' ? 'QAT' : 'calibration'} runs.</p>}
          {g.error && <div className="error" role="alert">{g.error}</div>}
          <OverridesEditor targets={targets} disabled={live} />
        </div>
        <div>
          <div className="run-bar">
            <div className="buttons">
              <button type="button" className="primary" data-testid="calibrate-button" disabled={live || !!calibWhy} onClick={() => ctl.calibrate()}
                title={calibWhy ?? `Calibrate ${model}`}>Calibrate</button>
              <button type="button" data-testid="qat-button" disabled={live || !!qatWhy} onClick={() => ctl.qat()}
                title={qatWhy ?? (hasCalib ? 'QAT from the calibration' : 'QAT from the float weights (ranges from the first batch)')}>Run QAT</button>
              <label className="button-like" title={qatWhy ?? 'The folder train_qat.py wrote (PyTorch QAT of the Deploy panel\'s PyTorch package): choose weights.safetensors, qparams.json and studio-graph.json'}>
                Import PyTorch QAT
                <input type="file" multiple className="sr-only" data-testid="import-torch-input" disabled={live || !!calibWhy} accept=".safetensors,.json"
                  onChange={(e) => { const fs = Array.from(e.currentTarget.files ?? []); e.currentTarget.value = ''; void ctl.importTorch(fs); }} />
              </label>
              <button type="button" className="danger" data-testid="quant-cancel-button" disabled={job.status !== 'running'} title={job.status !== 'running' ? 'Cancels a calibration or QAT in progress.' : undefined} onClick={() => ctl.cancel()}>Cancel</button>
            </div>
            <p className="run-status" data-testid="quant-status" data-status={job.status} data-stage={job.stage ?? ''} data-outcome={job.outcome ?? ''} role="status" aria-live="polite">
              {statusText(job, calibWhy, model)}
            </p>
          </div>
          {!live && qatWhy && qatWhy !== calibWhy && <p className="why" data-testid="qat-why">Run QAT: {qatWhy}</p>}
          <div className="progress" role="progressbar" data-testid="quant-progress" aria-label="Quantization progress" aria-valuemin={0} aria-valuemax={100}
            aria-valuenow={Math.round(pct)} data-done={job.done} data-total={job.total}>
            <div className="progress-fill" style={{ width: `${pct}%` }} />
          </div>
          {job.sites && <p className="hint" data-testid="quant-sites">{job.sites.acts} activation and {job.sites.weights} weight fake-quant sites</p>}
          {job.outcome === 'error' && job.error && (
            <div className="error" role="alert" data-testid="quant-error"><strong>{job.stage === 'qat' ? 'QAT' : 'Calibration'} failed:</strong> <code>{job.error}</code></div>
          )}
          <AccuracyTable />
          <OutputSimilarityTable />
          <PtqResults />
          <h3>QAT loss and accuracy</h3>
          {/* Without labels the epochs have no accuracy: the chart shows the loss, the table below the output SQNR. */}
          <LossChart testId="qat-chart" losses={qatLosses} epochs={qatEpochs.filter((e) => Number.isFinite(e.acc1))} totalSteps={job.stage === 'qat' ? job.total : qatLosses.at(-1)?.step ?? 0} height={180} />
          <QatEpochSimilarity epochs={qatEpochs} />
          <h3>Activation histograms</h3>
          <HistogramList />
        </div>
      </div>
    </section>
  );
}
