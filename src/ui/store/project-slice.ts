/**
 * The project: checkpoints of each stage (encoded bytes, as the worker sends them) and where the
 * project stands in IndexedDB (restoring at start, saved, or a storage error).
 */
import type { CheckpointStage } from '../../train/quant-protocol.ts';
import type { SliceCreator } from './types.ts';

export type Checkpoints = Partial<Record<CheckpointStage, Uint8Array>>;

export interface ProjectState {
  status: 'restoring' | 'ready' | 'error';
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
  projectSaved(at: number): void;
  projectError(message: string): void;
  touchProject(): void;
}

export const createProjectSlice: SliceCreator<ProjectSlice> = (set) => ({
  project: { status: 'restoring', savedAt: null, error: null, revision: 0 },
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
