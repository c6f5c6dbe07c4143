/**
 * Project persistence: restores the saved project at start (store, data, the worker's weights),
 * saves it to IndexedDB shortly after anything worth keeping changes, and exports / imports project
 * files. Storage is injected (IndexedDB in the page, a Map in tests). No React here.
 */
import type { TrainingClient } from '../../../train/client.ts';
import { errorText } from '../../../train/protocol.ts';
import { decodeProjectFile, encodeProjectFile } from '../../persist/project-file.ts';
import { overlaysOf } from '../../store/deploy-slice.ts';
import type { Metric } from '../../store/graph-slice.ts';
import { restoreScopeOf, snapshotOf, stateFromSnapshot, validateSnapshot, type ProjectSnapshot } from '../../persist/snapshot.ts';
import type { StudioState, StudioStore } from '../../store/studio-store.ts';
import type { DataController } from '../data/data-controller.ts';

export interface ProjectStorage {
  get(key: string): Promise<unknown>;
  put(key: string, value: unknown): Promise<void>;
}

export interface ProjectController {
  start(): Promise<void>;
  /** The project file's bytes (the page downloads them). */
  exportBytes(): Uint8Array;
  importBytes(bytes: Uint8Array, fileName: string): Promise<void>;
  dispose(): void;
}

const KEY = 'project';
const watched = (s: StudioState) => [s.modelName, s.imported, s.settings, s.data.prep, s.data.dataset, s.data.summary, s.quant.settings,
  s.quant.float, s.quant.calib, s.quant.qat, s.run.outcome, s.checkpoints, s.deploy.result, s.project.revision, s.scope, s.shelf, s.runs];

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
    if (s.project.status !== 'ready' || s.data.status !== 'ready') return;
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
    if (snap.data) st().dataLoaded(snap.data.summary, snap.data.dataset);
    else data.loadBuiltin();
  };

  return {
    async start() {
      let snap: ProjectSnapshot | null = null;
      try {
        const raw = await storage.get(KEY);
        if (raw !== undefined) snap = validateSnapshot(raw, 'the saved project');
      } catch (e) {
        st().projectError(`could not restore the saved project: ${errorText(e)}`);
      }
      if (snap) apply(snap);
      else data.loadBuiltin();
      last = watched(st());
      st().projectReady();
    },
    exportBytes: () => encodeProjectFile(snapshotOf(st())),
    async importBytes(bytes, fileName) {
      const snap = decodeProjectFile(bytes, fileName);
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
