/**
 * The project as saved (IndexedDB, project files): model, training settings, the data choice (the
 * dropped data set itself when not the built-in one) and its preprocessing, quantization settings and
 * results, the float run's curves and the checkpoints. Pure: snapshotOf reads the store state,
 * applySnapshot writes it back.
 */
import type { TrainTestData } from '../../data/dataset.ts';
import type { DataSummary } from '../../data/summary.ts';
import type { DataPrepSettings } from '../store/data-slice.ts';
import { isModelName, type ImportedModel } from '../store/model-slice.ts';
import { isImportedModel } from '../features/model/imported-model.ts';
import type { Checkpoints } from '../store/project-slice.ts';
import type { QuantState } from '../store/quant-slice.ts';
import { INITIAL_RUN, type RunState } from '../store/run-reducer.ts';
import type { StudioState } from '../store/studio-store.ts';
import type { TrainSettings } from '../store/training-slice.ts';
import type { SavedDeploy } from '../store/deploy-slice.ts';
import type { SavedAnalysis } from '../store/analysis-slice.ts';
import type { Scope } from '../scope/identity.ts';
import type { ScopedResults } from '../scope/switch.ts';
import { toResultScope } from '../scope/identity.ts';
import { INITIAL_RUNS, type RunsState } from '../store/runs-slice.ts';

export const SNAPSHOT_VERSION = 1;

export interface ProjectSnapshot {
  version: number;
  modelName: string;
  /** The imported ONNX model, when it is the model (absent in projects saved before imports). */
  imported?: ImportedModel | null;
  settings: TrainSettings;
  prep: DataPrepSettings;
  /** null: the built-in Fashion-MNIST. */
  data: { summary: DataSummary; dataset: TrainTestData } | null;
  quant: Pick<QuantState, 'settings' | 'calib' | 'qat'> & { float?: QuantState['float'] };
  float: Pick<RunState, 'config' | 'losses' | 'epochs' | 'summary' | 'totalSteps' | 'trainImages' | 'testImages'> | null;
  checkpoints: Checkpoints;
  /** The last deployment check and its files (absent in projects saved before deploy results were kept). */
  deploy?: SavedDeploy | null;
  /** The last precision analysis, with the key of the checkpoints and data it belongs to (absent in older projects). */
  analysis?: SavedAnalysis | null;
  /** The model and data the results above belong to (absent in projects saved before results carried one). */
  scope?: Scope | null;
  /** The run history of the model and data above (absent in projects saved before it was kept). */
  runs?: RunsState;
  /** The results of the other model / data pairs of this project, keyed by scopeKey. */
  shelf?: Record<string, ScopedResults>;
}

export function snapshotOf(s: StudioState): ProjectSnapshot {
  const r = s.run;
  return {
    version: SNAPSHOT_VERSION,
    modelName: s.modelName,
    imported: s.imported,
    settings: { ...s.settings },
    prep: { ...s.data.prep },
    data: s.data.dataset && s.data.summary ? { summary: s.data.summary, dataset: s.data.dataset } : null,
    quant: { settings: s.quant.settings, float: s.quant.float, calib: s.quant.calib, qat: s.quant.qat },
    float: r.outcome === 'done' && s.checkpoints.float
      ? { config: r.config, losses: r.losses, epochs: r.epochs, summary: r.summary, totalSteps: r.totalSteps, trainImages: r.trainImages, testImages: r.testImages }
      : null,
    checkpoints: { ...s.checkpoints },
    deploy: s.deploy.result ? { settings: s.deploy.settings, artifacts: s.deploy.artifacts, result: s.deploy.result, samples: s.deploy.samples } : null,
    analysis: s.analysis.result ? { settings: s.analysis.settings, result: s.analysis.result, int16: s.analysis.int16, key: s.analysis.key } : null,
    scope: s.scope,
    runs: s.runs,
    // A live run is not kept: only runs that ended go on the shelf.
    shelf: s.shelf,
  };
}

export class SnapshotError extends Error {}

/** Checks the shape of a snapshot read from storage or a file. */
export function validateSnapshot(x: unknown, where: string): ProjectSnapshot {
  const s = x as Partial<ProjectSnapshot> | null;
  if (!s || typeof s !== 'object') throw new SnapshotError(`${where}: not a Quant Studio project`);
  if (s.version !== SNAPSHOT_VERSION) throw new SnapshotError(`${where}: unsupported project version ${String(s.version)}`);
  if (typeof s.modelName !== 'string' || !isModelName(s.modelName)) throw new SnapshotError(`${where}: unknown model "${String(s.modelName)}"`);
  if (s.imported != null && !isImportedModel(s.imported)) throw new SnapshotError(`${where}: the imported model is damaged`);
  if (!s.settings || !s.prep || !s.quant || !s.checkpoints) throw new SnapshotError(`${where}: missing project fields`);
  if (s.deploy != null && !Array.isArray(s.deploy.result?.layers)) throw new SnapshotError(`${where}: the deployment results are damaged`);
  if (s.analysis != null && (!Array.isArray(s.analysis.result?.report.layers) || typeof s.analysis.key !== 'string')) throw new SnapshotError(`${where}: the analysis results are damaged`);
  if (s.scope != null && (typeof s.scope.model !== 'string' || typeof s.scope.data !== 'string')) throw new SnapshotError(`${where}: the results' model and data are damaged`);
  const shelved = Object.values(s.shelf ?? {});
  if (shelved.some((r) => !r?.scope || typeof r.scope.model !== 'string' || !r.checkpoints || !r.quant || !r.run)) throw new SnapshotError(`${where}: the kept results of another model are damaged`);
  if (s.runs != null && !Array.isArray(s.runs.list)) throw new SnapshotError(`${where}: the run history is damaged`);
  // JSON (project files) writes an exact layer's infinite SQNR as null.
  const results = [s.deploy?.result, ...shelved.map((x) => x.deploy?.result), ...[s.runs, ...shelved.map((x) => x.runs)].flatMap((r) => r?.list.map((x) => x.deploy) ?? [])];
  for (const r of results) for (const l of r?.layers ?? []) if (l.sqnr_db === null) l.sqnr_db = Infinity;
  return s as ProjectSnapshot;
}

/** The store updates that restore a snapshot (data loading and the worker restore are the caller's). */
export function stateFromSnapshot(snap: ProjectSnapshot): Partial<StudioState> {
  const f = snap.float;
  const run: RunState = f ? { ...INITIAL_RUN, ...f, outcome: 'done', status: 'idle' } : INITIAL_RUN;
  return {
    modelName: snap.modelName as StudioState['modelName'], imported: snap.imported ?? null, settings: { ...snap.settings }, run, checkpoints: { ...snap.checkpoints },
    scope: snap.scope ?? null, shelf: { ...(snap.shelf ?? {}) }, scopeNotice: null, runs: snap.runs ?? INITIAL_RUNS,
  };
}

/** The scope to stamp on the worker's restored checkpoints (absent: a project saved before they carried one). */
export function restoreScopeOf(snap: ProjectSnapshot) {
  return snap.scope ? toResultScope(snap.scope) : undefined;
}
