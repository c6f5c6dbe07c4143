/**
 * The data the studio trains and calibrates on: what is loaded (a summary; the dropped data set itself
 * when not the built-in one), decoding status and progress, the last error (the loaded data stays),
 * and the preprocessing (resize on decode, RGB→YUV444, normalization).
 */
import type { TrainTestData } from '../../data/dataset.ts';
import type { DataSummary } from '../../data/summary.ts';
import type { SliceCreator } from './types.ts';

export type NormalizeChoice = 'pixel/255' | 'dataset' | 'custom';

export interface DataPrepSettings {
  yuv: boolean;
  normalize: NormalizeChoice;
  /** Used when normalize is 'custom' (one value for all channels, or one per channel). */
  mean: number[];
  std: number[];
  /** Resize dropped images to this [H, W]; null keeps their size (all must match). */
  resize: [number, number] | null;
  /** Use the images without their labels (calibration, distillation QAT, output similarity); absent: false. */
  withoutLabels?: boolean;
}

export interface DataState {
  status: 'loading' | 'ready' | 'decoding';
  summary: DataSummary | null;
  /** The dropped data set (null for the built-in Fashion-MNIST, which the worker loads itself). */
  dataset: TrainTestData | null;
  progress: { done: number; total: number; stage: string } | null;
  error: { file: string; message: string } | null;
  prep: DataPrepSettings;
}

export const DEFAULT_PREP: Readonly<DataPrepSettings> = Object.freeze({ yuv: false, normalize: 'pixel/255', mean: [0.5], std: [0.5], resize: null });

export interface DataSlice {
  data: DataState;
  dataDecoding(): void;
  dataProgress(p: { done: number; total: number; stage: string }): void;
  dataLoaded(summary: DataSummary, dataset: TrainTestData | null): void;
  /** A failed decode: the message names the file; whatever was loaded stays. */
  dataFailed(file: string, message: string): void;
  dismissDataError(): void;
  setPrep(p: Partial<DataPrepSettings>): void;
}

export const INITIAL_DATA: DataState = { status: 'loading', summary: null, dataset: null, progress: null, error: null, prep: { ...DEFAULT_PREP } };

/** The normalization the worker applies, from the settings and the loaded data's statistics. */
export function normalizationOf(d: DataState): 'pixel/255' | { mean: number[]; std: number[] } {
  const p = d.prep;
  if (p.yuv) return { mean: [128 / 255], std: [128 / 255] };
  if (p.normalize === 'dataset' && d.summary) return { mean: d.summary.stats.mean, std: d.summary.stats.std.map((s) => Math.max(s, 1e-3)) };
  if (p.normalize === 'custom') return { mean: p.mean, std: p.std };
  return 'pixel/255';
}

/** Whether jobs see labels: the data has them and the page does not use it without them. */
export function dataLabelled(d: Pick<DataState, 'summary' | 'prep'>): boolean {
  return d.summary?.labelled !== false && !d.prep.withoutLabels;
}

/** Acc@5 says nothing when there are 5 classes or fewer (it is then 100 %): the page shows it only above that. */
export function showsAcc5(d: DataState): boolean {
  return (d.summary?.classNames.length ?? 10) > 5;
}

/** Input shape [C, H, W] the model is built for (YUV makes 3 channels). */
export function inputShapeOf(d: DataState): number[] {
  const s = d.summary?.shape ?? [1, 28, 28];
  return d.prep.yuv ? [3, s[1], s[2]] : s;
}

export const createDataSlice: SliceCreator<DataSlice> = (set) => ({
  data: INITIAL_DATA,
  dataDecoding() {
    set((s) => ({ data: { ...s.data, status: 'decoding', progress: null, error: null } }));
  },
  dataProgress(p) {
    set((s) => ({ data: { ...s.data, progress: p } }));
  },
  dataLoaded(summary, dataset) {
    set((s) => ({
      data: { ...s.data, status: 'ready', summary, dataset, progress: null, error: null,
        prep: summary.shape[0] === 3 ? s.data.prep : { ...s.data.prep, yuv: false } },
    }));
  },
  dataFailed(file, message) {
    set((s) => ({ data: { ...s.data, status: s.data.summary ? 'ready' : 'loading', progress: null, error: { file, message } } }));
  },
  dismissDataError() {
    set((s) => ({ data: { ...s.data, error: null } }));
  },
  setPrep(p) {
    set((s) => ({ data: { ...s.data, prep: { ...s.data.prep, ...p } } }));
  },
});
