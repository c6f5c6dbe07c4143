/**
 * The analysis slice alone: settings validation, a run followed from its messages (progress, done, the int16 check),
 * stale messages after the end ignored, an error kept, clearing refused while a job runs, a saved result restored; the
 * binding key (checkpoint contents, data, preprocessing); the graph overlays of a result (an exact layer drawn at the
 * best finite SQNR).
 */
import { describe, expect, it } from 'vitest';
import { createStore } from 'zustand/vanilla';
import type { AnalyzeReport } from '../src/quant/analysis/report.ts';
import type { AnalysisResult } from '../src/train/analysis-protocol.ts';
import { analysisSettingErrors, createAnalysisSlice, DEFAULT_ANALYSIS_SETTINGS, type AnalysisSlice } from '../src/ui/store/analysis-slice.ts';
import { analysisOverlays } from '../src/ui/features/analysis/analysis-overlays.ts';
import { bindingKey } from '../src/ui/features/analysis/analysis-binding.ts';
import type { StudioState } from '../src/ui/store/studio-store.ts';

const side = { min: 0, max: 1, mean: 0.5, std: 0.1, clipped: 0 };
const layer = (name: string, depth: number, sqnr: number | null, cosine: number) =>
  ({ name, depth, elements: 4, cosine, sqnr_db: sqnr, max_abs_error: 0.1, mean_error: 0, mean_abs_error: 0.05, a: side, b: side });

const REPORT: AnalyzeReport = {
  model: 'cnn-small', data: 'fashion-mnist', checkpoint: 'calib', images: 8, compare: ['float', 'calib'], metric: 'cosine',
  bad_cases: [], layers: [layer('quant', 1, null, 1), layer('block1.conv', 2, 20, 0.99), layer('fc', 9, 35, 0.999)], sensitivity: [],
};
const RESULT: AnalysisResult = { report: REPORT, images: { shape: [1, 28, 28], pixels: [] }, classNames: [], dataName: 'fashion-mnist', seconds: 1 };

const store = () => createStore<AnalysisSlice>()(createAnalysisSlice);

describe('analysis slice', () => {
  it('validates the settings', () => {
    expect(analysisSettingErrors(DEFAULT_ANALYSIS_SETTINGS)).toEqual({});
    expect(analysisSettingErrors({ ...DEFAULT_ANALYSIS_SETTINGS, images: 0, batchSize: 2.5, topK: 0 }))
      .toEqual({ images: 'must be between 1 and 10000', batchSize: 'must be a whole number', topK: 'must be a whole number ≥ 1' });
  });

  it('follows a run and an int16 check from their messages; ignores stale ones', () => {
    const s = store();
    const st = () => s.getState().analysis;
    s.getState().beginAnalysis('analyze');
    s.getState().applyAnalysisMessage({ type: 'analysis-progress', phase: 'sensitivity', done: 3, total: 10 });
    expect(st().job).toMatchObject({ status: 'running', kind: 'analyze', phase: 'sensitivity', done: 3, total: 10 });
    s.getState().applyAnalysisMessage({ type: 'analysis-done', result: RESULT });
    expect(st().job).toMatchObject({ status: 'idle', outcome: 'done' });
    expect(st().result).toBe(RESULT);
    s.getState().applyAnalysisMessage({ type: 'analysis-progress', phase: 'layers', done: 1, total: 2 });
    expect(st().job.phase).toBe('sensitivity');

    s.getState().beginAnalysis('int16');
    expect(st().result).toBe(RESULT); // the check keeps the analysis it came from
    s.getState().clearAnalysis();
    expect(st().result).toBe(RESULT); // not while a job runs
    const int16 = { sites: [{ site: 'block1.conv', kind: 'activation' as const }], acc1_before: 50, acc1_after: 80, acc1_float: 85, images: 8, model: 'cnn-small', dataName: 'x' };
    s.getState().applyAnalysisMessage({ type: 'analysis-int16-done', result: int16 });
    expect(st().int16).toEqual(int16);
    s.getState().clearAnalysis();
    expect(st().result).toBeNull();
    expect(st().int16).toBeNull();

    s.getState().beginAnalysis('analyze');
    s.getState().applyAnalysisMessage({ type: 'analysis-error', message: 'no calibrated model: calibrate first' });
    expect(st().job).toMatchObject({ status: 'idle', outcome: 'error', error: 'no calibrated model: calibrate first' });
  });

  it('restores a saved result with its key; clearing drops the key', () => {
    const s = store();
    s.getState().restoreAnalysis({ settings: { ...DEFAULT_ANALYSIS_SETTINGS, images: 64 }, result: RESULT, int16: null, key: 'k1' });
    expect(s.getState().analysis).toMatchObject({ result: RESULT, key: 'k1', settings: { images: 64 } });
    s.getState().clearAnalysis();
    expect(s.getState().analysis).toMatchObject({ result: null, key: null });
  });

  it('binds to checkpoint contents and data, not to object identity', () => {
    const base = { checkpoints: { float: Uint8Array.from([1, 2, 3]), calib: Uint8Array.from([4, 5]) }, data: { summary: { name: 'fm', trainCount: 10, testCount: 5, shape: [1, 28, 28] }, prep: { yuv: false } } };
    const key = (x: unknown) => bindingKey(x as StudioState);
    const k = key(base);
    expect(key({ ...base, checkpoints: { float: Uint8Array.from([1, 2, 3]), calib: Uint8Array.from([4, 5]) } })).toBe(k);
    expect(key({ ...base, checkpoints: { ...base.checkpoints, calib: Uint8Array.from([4, 6]) } })).not.toBe(k);
    expect(key({ ...base, data: { ...base.data, summary: { ...base.data.summary, testCount: 6 } } })).not.toBe(k);
    expect(key({ ...base, data: { ...base.data, prep: { yuv: true } } })).not.toBe(k);
  });

  it('overlays per layer, an exact layer at the best finite SQNR', () => {
    const o = analysisOverlays(REPORT);
    expect(o.analysisSqnr).toEqual({ quant: 35, 'block1.conv': 20, fc: 35 });
    expect(o.analysisCosine['block1.conv']).toBe(0.99);
  });
});
