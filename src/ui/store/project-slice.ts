/**
 * The project: checkpoints of each stage (encoded bytes, as the worker sends them) and where the
 * project stands in IndexedDB (restoring at start, saved, or a storage error).
 */
import type { CheckpointStage } from '../../train/quant-protocol.ts';
import type { SliceCreator } from './types.ts';

export type Checkpoints = Partial<Record<CheckpointStage, Uint8Array>>;

/** A part of the saved project that could not be restored, and why. */
export interface UnrestoredPart { part: string; reason: string }

export interface ProjectState {
  status: 'restoring' | 'ready' | 'error';
  /**
   * Safe start: the parts of the saved project that could not be restored (null: none). While set, the
   * studio runs without them and does not save over the saved project until the user discards them.
   */
  unrestored: UnrestoredPart[] | null;
  savedAt: number | null;
  error: string | null;
  /** Bumped on every change worth saving (the persistence controller debounces on it). */
  revision: number;
}

export interface ProjectSlice {
  project: ProjectState;
  checkpoints: Checkpoints;
  /** A float checkpoint replaces calib and qat (they belonged to the old float model). */
  setCheckpoint(stage: CheckpointStage, bytes: Uint8Array): void;
  setCheckpoints(c: Checkpoints): void;
  projectReady(): void;
  /** Enters (a list) or leaves (null) the safe start. */
  setUnrestored(parts: UnrestoredPart[] | null): void;
  projectSaved(at: number): void;
  projectError(message: string): void;
  touchProject(): void;
}

export const createProjectSlice: SliceCreator<ProjectSlice> = (set) => ({
  project: { status: 'restoring', unrestored: null, savedAt: null, error: null, revision: 0 },
  checkpoints: {},
  setCheckpoint(stage, bytes) {
    set((s) => ({
      checkpoints: stage === 'float' ? { float: bytes } : stage === 'calib' ? { float: s.checkpoints.float, calib: bytes } : { ...s.checkpoints, qat: bytes },
      project: { ...s.project, revision: s.project.revision + 1 },
    }));
  },
  setCheckpoints(c) {
    set({ checkpoints: { ...c } });
  },
  projectReady() {
    set((s) => ({ project: { ...s.project, status: 'ready' } }));
  },
  setUnrestored(parts) {
    set((s) => ({ project: { ...s.project, unrestored: parts && parts.length ? parts : null } }));
  },
  projectSaved(at) {
    set((s) => ({ project: { ...s.project, savedAt: at, error: null } }));
  },
  projectError(message) {
    set((s) => ({ project: { ...s.project, status: s.project.status === 'restoring' ? 'ready' : s.project.status, error: message } }));
  },
  touchProject() {
    set((s) => ({ project: { ...s.project, revision: s.project.revision + 1 } }));
  },
});
