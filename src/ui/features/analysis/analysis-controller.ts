/**
 * Precision analysis from the page's side: starts the training worker's analysis job (or the "int16 for top K"
 * check) on the kept models and the loaded data, folds its messages into the analysis slice, colours the graph by the
 * per-layer result, and drops results that no longer belong to the model and data (analysis-binding.ts).
 * No React here.
 */
import type { TrainingClient } from '../../../train/client.ts';
import { errorText } from '../../../train/protocol.ts';
import type { AnalysisJobConfig } from '../../../train/analysis-protocol.ts';
import { topSites } from '../../../quant/analysis/int16-sites.ts';
import { analysisSettingErrors } from '../../store/analysis-slice.ts';
import type { StudioState, StudioStore } from '../../store/studio-store.ts';
import { analysisOverlays } from './analysis-overlays.ts';
import { bindingKey } from './analysis-binding.ts';

export interface AnalysisController {
  /** Starts the analysis; false when it cannot start now. */
  start(): boolean;
  /** Recalibrates with the ranking's top K sites in int16 and evaluates; false when it cannot start now. */
  int16Top(): boolean;
  cancel(): void;
  dispose(): void;
}

export function analysisConfigOf(s: StudioState): AnalysisJobConfig {
  const a = s.analysis.settings;
  return {
    compare: a.compare, metric: a.metric, images: a.images, badCases: a.badCases, batchSize: a.batchSize,
    sensitivity: a.sensitivity, mixedPrecision: a.mixedPrecision, calibImages: a.calibImages,
  };
}

/** Why the analysis cannot run now (null when it can). */
export function analysisBlocker(s: StudioState): string | null {
  const c = s.checkpoints;
  const cmp = s.analysis.settings.compare;
  if (cmp.startsWith('float') && !c.float) return 'Train the float model first (step 3).';
  if (cmp.endsWith('calib') && !c.calib) return 'Calibrate first (step 4).';
  if (cmp.endsWith('qat') && !c.qat) return 'Run QAT first (step 4).';
  if (cmp === 'calib-qat' && !c.calib) return 'Calibrate first (step 4).';
  if (s.data.status !== 'ready') return 'Waiting for the data.';
  if (s.run.status !== 'idle' || s.quant.job.status !== 'idle' || s.deploy.job.status !== 'idle') return 'Another job is running.';
  if (Object.keys(analysisSettingErrors(s.analysis.settings)).length) return 'Fix the settings.';
  return null;
}

export function createAnalysisController(store: StudioStore, client: TrainingClient, beforeJob: () => void): AnalysisController {
  const st = () => store.getState();

  const unsubscribe = client.subscribe((m) => {
    switch (m.type) {
      case 'analysis-progress':
      case 'analysis-int16-done':
      case 'analysis-cancelled':
      case 'analysis-error':
        st().applyAnalysisMessage(m);
        return;
      case 'analysis-done': {
        st().applyAnalysisMessage(m);
        for (const [metric, values] of Object.entries(analysisOverlays(m.result.report))) st().setOverlay(metric as keyof ReturnType<typeof analysisOverlays>, values);
        return;
      }
      case 'error':
        if (st().analysis.job.status !== 'idle' && client.job === null) st().analysisFailed(m.message);
        return;
      default:
    }
  });

  // The result belongs to the checkpoints and data it was made from: other ones drop it (checked once a restored
  // project and its data are in place).
  const unwatch = store.subscribe((s) => {
    if (!s.analysis.result && !s.analysis.int16) return;
    if (s.project.status === 'restoring' || s.data.status !== 'ready') return;
    if (s.analysis.key !== bindingKey(s)) s.clearAnalysis();
  });

  const launch = (kind: 'analyze' | 'int16', send: () => void): boolean => {
    st().beginAnalysis(kind, bindingKey(st()));
    try {
      beforeJob();
      send();
    } catch (e) {
      st().analysisFailed(errorText(e));
      return false;
    }
    return true;
  };

  return {
    start() {
      const s = st();
      if (client.job !== null || s.analysis.job.status !== 'idle' || analysisBlocker(s)) return false;
      return launch('analyze', () => client.analyze({ type: 'analyze', config: analysisConfigOf(s) }));
    },
    int16Top() {
      const s = st();
      const r = s.analysis.result;
      if (!r || !r.report.sensitivity.length || client.job !== null || s.analysis.job.status !== 'idle' || analysisBlocker(s)) return false;
      const a = s.analysis.settings;
      const stage = r.report.checkpoint === 'qat' ? 'qat' : 'calib';
      return launch('int16', () => client.analyze({
        type: 'analysis-int16',
        config: { stage, sites: topSites(r.report.sensitivity, a.topK), images: a.images, batchSize: a.batchSize, calibImages: a.calibImages },
      }));
    },
    cancel() {
      if (st().analysis.job.status !== 'running') return;
      st().requestAnalysisCancel();
      client.cancel();
    },
    dispose() {
      unsubscribe();
      unwatch();
    },
  };
}
