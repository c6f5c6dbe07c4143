/**
 * Run history: every calibration, QAT and deployment check of the model and data on screen is kept as a run (its
 * settings, accuracies, histograms, scales, QAT curves, per-layer table), listed, renamed, deleted, and two of them
 * picked for a side-by-side comparison. Runs are results: they switch with the scope (scope/switch.ts) and persist
 * with the project.
 */
import type { DeployCheckResult } from '../../quant/deploy-check.ts';
import type { NodeOverride } from '../../quant/qconfig.ts';
import type { ActHistogram, QuantScales } from '../../train/quant-protocol.ts';
import type { DeploySettingsState } from './deploy-slice.ts';
import type { QuantSettingsState } from './quant-slice.ts';
import type { EpochPoint, LossPoint } from './run-reducer.ts';
import type { SliceCreator } from './types.ts';

export type RunKind = 'calib' | 'qat' | 'deploy';

export interface RunRecord {
  id: string;
  name: string;
  kind: RunKind;
  /** ms since the epoch. */
  at: number;
  /** The quantization settings it ran with (for a deployment check: of the model it converted, as they were then). */
  quant: Pick<QuantSettingsState, 'march' | 'template' | 'observer' | 'calibBatches' | 'calibBatchSize' | 'qatEpochs' | 'qatLr' | 'qatTrainImages'> & { overrides: NodeOverride[] };
  deploySettings?: DeploySettingsState;
  acc1: number;
  acc5: number;
  seconds: number;
  scales?: QuantScales;
  histograms?: ActHistogram[];
  qatCurve?: { losses: LossPoint[]; epochs: EpochPoint[] };
  deploy?: DeployCheckResult;
  /** For a deployment check: the stage it converted. */
  source?: 'calib' | 'qat';
}

export interface RunsState {
  list: RunRecord[];
  /** The two runs compared side by side (ids), A and B. */
  compare: [string | null, string | null];
}

export const INITIAL_RUNS: RunsState = { list: [], compare: [null, null] };

export interface RunsSlice {
  runs: RunsState;
  addRun(r: Omit<RunRecord, 'id' | 'name'> & { name?: string }): RunRecord;
  renameRun(id: string, name: string): void;
  deleteRun(id: string): void;
  setCompare(slot: 0 | 1, id: string | null): void;
}

const KIND_NAME: Record<RunKind, string> = { calib: 'Calibration', qat: 'QAT', deploy: 'Deployment check' };

/** The default name: kind, number among its kind, and what distinguishes it (observer, march). */
export function defaultRunName(kind: RunKind, n: number, q: RunRecord['quant']): string {
  return `${KIND_NAME[kind]} ${n} (${q.observer || 'template observer'}, ${q.march})`;
}

export const createRunsSlice: SliceCreator<RunsSlice> = (set, get) => ({
  runs: INITIAL_RUNS,
  addRun(r) {
    const list = get().runs.list;
    const n = list.filter((x) => x.kind === r.kind).length + 1;
    const id = `${r.kind}-${r.at.toString(36)}-${Math.random().toString(36).slice(2, 7)}`;
    const rec: RunRecord = { ...r, id, name: r.name?.trim() || defaultRunName(r.kind, n, r.quant) };
    // The newest run is compared with the one before it of the same kind, unless the user picked others.
    const prev = [...list].reverse().find((x) => x.kind === r.kind);
    const cmp = get().runs.compare;
    const compare: RunsState['compare'] = cmp[0] || cmp[1] ? cmp : [prev?.id ?? null, prev ? id : null];
    set({ runs: { list: [...list, rec], compare } });
    return rec;
  },
  renameRun(id, name) {
    const n = name.trim();
    if (!n) return;
    set((s) => ({ runs: { ...s.runs, list: s.runs.list.map((r) => (r.id === id ? { ...r, name: n } : r)) } }));
  },
  deleteRun(id) {
    set((s) => ({
      runs: { list: s.runs.list.filter((r) => r.id !== id), compare: s.runs.compare.map((c) => (c === id ? null : c)) as RunsState['compare'] },
    }));
  },
  setCompare(slot, id) {
    set((s) => {
      const compare: RunsState['compare'] = [...s.runs.compare];
      compare[slot] = id;
      return { runs: { ...s.runs, compare } };
    });
  },
});
