/**
 * Builds the run-history records from what a finished job left in the store: the settings it started with and
 * its results (accuracy, scales, histograms, QAT curves; a deployment check's per-layer table). Pure.
 */
import type { RunRecord } from '../../store/runs-slice.ts';
import type { QuantSettingsState } from '../../store/quant-slice.ts';
import type { StudioState } from '../../store/studio-store.ts';

type NewRun = Omit<RunRecord, 'id' | 'name'>;

export function quantOf(q: QuantSettingsState): RunRecord['quant'] {
  const { march, template, observer, calibBatches, calibBatchSize, qatEpochs, qatLr, qatTrainImages, overrides } = q;
  return { march, template, observer, calibBatches, calibBatchSize, qatEpochs, qatLr, qatTrainImages, overrides: [...overrides] };
}

/** The calibration or QAT just finished, run with `settings` (as they were when it started). */
export function quantRunOf(s: StudioState, stage: 'calib' | 'qat', settings: QuantSettingsState, at = Date.now()): NewRun | null {
  const quant = quantOf(settings);
  if (stage === 'calib') {
    const r = s.quant.calib;
    return r ? { kind: 'calib', at, quant, acc1: r.acc1, acc5: r.acc5, seconds: r.seconds, scales: r.scales, histograms: r.histograms } : null;
  }
  const r = s.quant.qat;
  return r ? { kind: 'qat', at, quant, acc1: r.acc1, acc5: r.acc5, seconds: r.seconds, scales: r.scales, qatCurve: { losses: r.losses, epochs: r.epochs }, ...(r.histograms ? { histograms: r.histograms } : {}) } : null;
}

/** The deployment check just finished; its quantization settings are those of the latest run of the stage it converted. */
export function deployRunOf(s: StudioState, at = Date.now()): NewRun | null {
  const r = s.deploy.result, a = s.deploy.artifacts;
  if (!r || !a) return null;
  const from = [...s.runs.list].reverse().find((x) => x.kind === a.source);
  return {
    kind: 'deploy', at, quant: from ? from.quant : quantOf(s.quant.settings), deploySettings: { ...s.deploy.settings }, source: a.source,
    acc1: r.int.acc1, acc5: r.int.acc5, seconds: r.seconds, deploy: r,
    // The scales of the model the check converted, so a check compares per layer with a calibration or QAT run too.
    ...(s.quant[a.source] ? { scales: s.quant[a.source]!.scales } : {}),
  };
}
