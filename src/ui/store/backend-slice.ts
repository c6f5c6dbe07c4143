/** Which compute backend the training worker runs, and why (the badge in the header). */
import type { BackendPreference, WorkerMessage } from '../../train/protocol.ts';
import type { SliceCreator } from './types.ts';

export type BackendInfo =
  | { status: 'pending' }
  | { status: 'ready'; kind: 'webgpu' | 'cpu'; adapter: string; reason?: string };

export interface BackendSlice {
  backend: BackendInfo;
  backendPreference: BackendPreference;
  /** The user picked a backend: the worker restarts, the badge waits for its `ready`. */
  setBackendPreference(p: BackendPreference): void;
  backendReady(msg: Extract<WorkerMessage, { type: 'ready' }>): void;
}

export const createBackendSlice: SliceCreator<BackendSlice> = (set) => ({
  backend: { status: 'pending' },
  backendPreference: 'auto',
  setBackendPreference(p) {
    set({ backendPreference: p, backend: { status: 'pending' } });
  },
  backendReady(msg) {
    set({ backend: { status: 'ready', kind: msg.backend, adapter: msg.adapter, ...(msg.reason ? { reason: msg.reason } : {}) } });
  },
});
