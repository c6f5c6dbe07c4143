/**
 * The state of one training run as the page sees it, and the pure reducer that folds worker
 * messages (protocol.ts) and the user's requests into it. No React, no zustand: tested alone.
 */
import type { ProgressInfo, TrainJobConfig, WorkerMessage } from '../../train/protocol.ts';

/** idle: no run; starting: requested, nothing heard yet; pausing/resuming/cancelling: asked, not yet acknowledged. */
export type RunStatus = 'idle' | 'starting' | 'running' | 'pausing' | 'paused' | 'resuming' | 'cancelling';
export type RunOutcome = 'done' | 'cancelled' | 'error' | null;

export interface LossPoint { step: number; loss: number }
export interface EpochPoint { epoch: number; step: number; acc1: number; acc5: number; loss: number }
export interface RunSummary { seconds: number; imagesPerSecond: number; steps: number }

export interface RunState {
  status: RunStatus;
  /** How the last run ended (kept after it, until the next one starts). */
  outcome: RunOutcome;
  error: string | null;
  config: TrainJobConfig | null;
  totalSteps: number;
  trainImages: number;
  testImages: number;
  progress: ProgressInfo | null;
  /** Training loss after each step that read it back. */
  losses: LossPoint[];
  /** Test accuracy after each epoch, placed at the step that ended the epoch. */
  epochs: EpochPoint[];
  summary: RunSummary | null;
  pausedAtStep: number | null;
}

export const INITIAL_RUN: RunState = Object.freeze({
  status: 'idle',
  outcome: null,
  error: null,
  config: null,
  totalSteps: 0,
  trainImages: 0,
  testImages: 0,
  progress: null,
  losses: [],
  epochs: [],
  summary: null,
  pausedAtStep: null,
}) as RunState;

export const isLive = (s: RunStatus): boolean => s !== 'idle';

export function beginRun(config: TrainJobConfig): RunState {
  return { ...INITIAL_RUN, status: 'starting', config: { ...config } };
}

export type RunRequest = 'pause' | 'resume' | 'cancel';

/** The user's request, before the worker acknowledges it. Invalid requests leave the state as is. */
export function requestRun(s: RunState, r: RunRequest): RunState {
  switch (r) {
    case 'pause': return s.status === 'running' ? { ...s, status: 'pausing' } : s;
    case 'resume': return s.status === 'paused' ? { ...s, status: 'resuming' } : s;
    case 'cancel': return isLive(s.status) && s.status !== 'cancelling' ? { ...s, status: 'cancelling' } : s;
  }
}

/** Steps per epoch of the live run (0 before the worker reported `started`). */
export function stepsPerEpoch(s: RunState): number {
  return s.config && s.totalSteps > 0 ? s.totalSteps / s.config.epochs : 0;
}

/** Completed fraction in percent, 0..100. */
export function percentDone(s: RunState): number {
  if (!s.progress || s.progress.totalSteps <= 0) return s.outcome === 'done' ? 100 : 0;
  return Math.min(100, (100 * s.progress.step) / s.progress.totalSteps);
}

export function reduceRun(s: RunState, m: WorkerMessage): RunState {
  const live = isLive(s.status);
  // While cancelling, progress may still arrive (the step in flight) but the status stays.
  const keep = (next: RunStatus): RunStatus => (s.status === 'cancelling' ? 'cancelling' : next);
  switch (m.type) {
    case 'ready':
      return s;
    case 'started':
      if (!live) return s;
      return { ...s, status: keep(s.status === 'starting' ? 'running' : s.status), totalSteps: m.totalSteps, trainImages: m.trainImages, testImages: m.testImages };
    case 'progress': {
      if (!live) return s;
      const { type: _type, ...p } = m;
      const losses = Number.isFinite(p.loss) ? [...s.losses, { step: p.step, loss: p.loss }] : s.losses;
      const status = s.status === 'starting' ? keep('running') : s.status;
      return { ...s, status, progress: p, losses, totalSteps: p.totalSteps || s.totalSteps };
    }
    case 'paused':
      if (!live) return s;
      return { ...s, status: keep('paused'), pausedAtStep: m.step };
    case 'resumed':
      if (!live) return s;
      return { ...s, status: keep('running'), pausedAtStep: null };
    case 'epoch': {
      if (!live) return s;
      const per = stepsPerEpoch(s);
      const step = per > 0 ? Math.round(m.epoch * per) : (s.progress?.step ?? 0);
      return { ...s, epochs: [...s.epochs, { epoch: m.epoch, step, acc1: m.acc1, acc5: m.acc5, loss: m.loss }] };
    }
    case 'done':
      if (!live) return s;
      return { ...s, status: 'idle', outcome: 'done', pausedAtStep: null, summary: { seconds: m.seconds, imagesPerSecond: m.imagesPerSecond, steps: m.steps } };
    case 'cancelled':
      if (!live) return s;
      return { ...s, status: 'idle', outcome: 'cancelled', pausedAtStep: null };
    case 'error':
      return { ...s, status: 'idle', outcome: 'error', error: m.message, pausedAtStep: null };
    default:
      // Data and quantization messages belong to other slices.
      return s;
  }
}
