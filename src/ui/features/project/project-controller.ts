/**
 * Project persistence: restores the saved project at start (store, data, the worker's weights),
 * saves it to IndexedDB shortly after anything worth keeping changes, and exports / imports project
 * files. Storage is injected (IndexedDB in the page, a Map in tests). No React here.
 */
import type { TrainingClient } from '../../../train/client.ts';
import { errorText } from '../../../train/protocol.ts';
import { decodeProjectFile, encodeProjectFile } from '../../persist/project-file.ts';
import { overlaysOf } from '../../store/deploy-slice.ts';
import type { AnalysisMetric, Metric } from '../../store/graph-slice.ts';
import { analysisOverlays } from '../analysis/analysis-overlays.ts';
import { restoreScopeOf, snapshotOf, stateFromSnapshot, validateSnapshot, type ProjectSnapshot } from '../../persist/snapshot.ts';
import type { StudioState, StudioStore } from '../../store/studio-store.ts';
import type { UnrestoredPart } from '../../store/project-slice.ts';
import { checkSavedData } from '../../persist/saved-data.ts';
import type { DataController } from '../data/data-controller.ts';

export interface ProjectStorage {
  get(key: string): Promise<unknown>;
  put(key: string, value: unknown): Promise<void>;
}

export interface ProjectController {
  /**
   * Restores the saved project. What cannot be restored (unreadable storage, an unknown format, a damaged
   * data set and the results computed on it) is left out and listed in project.unrestored: the studio
   * opens anyway (a safe start) and saves nothing over the saved project until discardUnrestored().
   */
  start(): Promise<void>;
  /** Leaves the safe start: the parts that could not be restored are dropped and the project is saved as it is now. */
  discardUnrestored(): void;
  /** The project file's bytes (the page downloads them). */
  exportBytes(): Uint8Array;
  importBytes(bytes: Uint8Array, fileName: string): Promise<void>;
  dispose(): void;
}

const KEY = 'project';
const watched = (s: StudioState) => [s.modelName, s.imported, s.settings, s.data.prep, s.data.dataset, s.data.summary, s.quant.settings,
  s.quant.float, s.quant.calib, s.quant.qat, s.run.outcome, s.checkpoints, s.deploy.result, s.analysis.result, s.analysis.int16, s.project.revision, s.scope, s.shelf, s.runs];

export function createProjectController(store: StudioStore, client: TrainingClient, data: DataController, storage: ProjectStorage, debounceMs = 250): ProjectController {
  const st = () => store.getState();
  let timer: ReturnType<typeof setTimeout> | null = null;
  let last = watched(st());
  let saving = Promise.resolve();

  const save = () => {
    timer = null;
    const snap = snapshotOf(st());
    saving = saving.then(() => storage.put(KEY, snap)).then(
      () => st().projectSaved(Date.now()),
      (e) => st().projectError(`could not save the project: ${errorText(e)}`),
    );
  };
  const unsubscribe = store.subscribe((s) => {
    const now = watched(s);
    if (now.every((v, i) => v === last[i])) return;
    last = now;
    if (s.project.status !== 'ready' || s.data.status !== 'ready' || s.project.unrestored) return;
    if (timer) clearTimeout(timer);
    timer = setTimeout(save, debounceMs);
  });

  const apply = (snap: ProjectSnapshot) => {
    // The data is marked as loading first, so the page does not switch scope on a half-restored project.
    st().dataDecoding();
    store.setState(stateFromSnapshot(snap));
    st().restoreQuant(snap.quant);
    st().setPrep(snap.prep);
    client.restore(snap.checkpoints.float ?? null, snap.checkpoints.calib ?? null, snap.checkpoints.qat ?? null, restoreScopeOf(snap));
    if (snap.deploy) {
      st().restoreDeploy(snap.deploy);
      for (const [metric, values] of Object.entries(overlaysOf(snap.deploy.result.layers))) st().setOverlay(metric as Metric, values);
    }
    if (snap.analysis) {
      st().restoreAnalysis(snap.analysis);
      for (const [metric, values] of Object.entries(analysisOverlays(snap.analysis.result!.report))) st().setOverlay(metric as AnalysisMetric, values);
    }
    if (snap.data) st().dataLoaded(snap.data.summary, snap.data.dataset);
    else data.loadBuiltin();
  };

  /** Restores what can be restored; returns the parts that could not be. */
  const restore = (raw: unknown): UnrestoredPart[] => {
    let snap: ProjectSnapshot;
    try {
      snap = validateSnapshot(raw, 'the saved project');
    } catch (e) {
      data.loadBuiltin();
      return [{ part: 'the saved project', reason: errorText(e).replace(/^the saved project: /, '') }];
    }
    const lost: UnrestoredPart[] = [];
    try {
      checkSavedData(snap.data);
    } catch (e) {
      lost.push({ part: `the data set "${String(snap.data?.summary?.name ?? 'dropped data')}"`, reason: errorText(e) });
      // Results belong to the data they were computed on: without it they are not restored either.
      const results = [snap.float && 'the float run', snap.quant.calib && 'calibration', snap.quant.qat && 'QAT', snap.deploy && 'the deployment check',
        Object.keys(snap.checkpoints).length && 'the checkpoints'].filter(Boolean);
      if (results.length) lost.push({ part: results.join(', '), reason: 'they were computed on that data set' });
      snap = { ...snap, data: null, float: null, checkpoints: {}, deploy: null, quant: { settings: snap.quant.settings, calib: null, qat: null } };
    }
    try {
      apply(snap);
    } catch (e) {
      lost.push({ part: 'the saved project', reason: `restoring it failed (${errorText(e)})` });
      apply(snapshotOf(store.getInitialState()));
    }
    return lost;
  };

  return {
    async start() {
      let lost: UnrestoredPart[] = [];
      let raw: unknown;
      try {
        raw = await storage.get(KEY);
      } catch (e) {
        lost = [{ part: 'the saved project', reason: `it could not be read from this browser's storage (${errorText(e)})` }];
      }
      if (raw !== undefined && !lost.length) lost = restore(raw);
      else data.loadBuiltin();
      st().setUnrestored(lost);
      last = watched(st());
      st().projectReady();
    },
    discardUnrestored() {
      st().setUnrestored(null);
      if (timer) clearTimeout(timer);
      save();
    },
    exportBytes: () => encodeProjectFile(snapshotOf(st())),
    async importBytes(bytes, fileName) {
      const snap = decodeProjectFile(bytes, fileName);
      try {
        checkSavedData(snap.data);
      } catch (e) {
        throw new Error(`${fileName}: its data set cannot be used: ${errorText(e)}`);
      }
      if (client.job !== null) throw new Error('cannot import a project while a job runs');
      apply(snap);
      st().touchProject();
    },
    dispose() {
      if (timer) clearTimeout(timer);
      unsubscribe();
    },
  };
}
