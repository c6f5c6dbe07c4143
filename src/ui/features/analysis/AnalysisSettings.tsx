/** Analysis settings: which stages to compare, the distance, how many images and bad cases, which passes to run. */
import { useId } from 'react';
import { DISTANCE_METRICS, type DistanceMetric } from '../../../quant/analysis/distance.ts';
import type { AnalysisCompare } from '../../../train/analysis-protocol.ts';
import { analysisSettingErrors } from '../../store/analysis-slice.ts';
import { useStudio } from '../../studio-context.tsx';

const COMPARES: { v: AnalysisCompare; label: string }[] = [
  { v: 'float-calib', label: 'float vs calibrated' }, { v: 'float-qat', label: 'float vs QAT' }, { v: 'calib-qat', label: 'calibrated vs QAT' },
];

const NUMS = [
  { k: 'images', label: 'Test images', testId: 'analysis-images' },
  { k: 'badCases', label: 'Bad cases shown', testId: 'analysis-bad-cases' },
  { k: 'batchSize', label: 'Batch size', testId: 'analysis-batch-size' },
  { k: 'calibImages', label: 'int16 calibration images', testId: 'analysis-calib-images' },
] as const;

export function AnalysisSettings({ disabled }: { disabled: boolean }) {
  const a = useStudio((s) => s.analysis.settings);
  const set = useStudio((s) => s.setAnalysisSetting);
  const id = useId();
  const errors = analysisSettingErrors(a);
  return (
    <fieldset className="grid-fields analysis-settings" disabled={disabled} title={disabled ? 'Locked while a job runs (cancel it to change the settings).' : undefined}>
      <legend className="sr-only">Analysis settings</legend>
      <div className="field">
        <label htmlFor={`${id}-cmp`}>Compare</label>
        <select id={`${id}-cmp`} data-testid="analysis-compare" value={a.compare} onChange={(e) => set('compare', e.target.value as AnalysisCompare)}>
          {COMPARES.map((c) => <option key={c.v} value={c.v}>{c.label}</option>)}
        </select>
      </div>
      <div className="field">
        <label htmlFor={`${id}-metric`}>Distance</label>
        <select id={`${id}-metric`} data-testid="analysis-metric" value={a.metric} onChange={(e) => set('metric', e.target.value as DistanceMetric)}>
          {DISTANCE_METRICS.map((m) => <option key={m} value={m}>{m === 'kl' ? 'KL' : m === 'sqnr' ? 'SQNR' : m === 'l1' ? 'L1' : m === 'mse' ? 'MSE' : m}</option>)}
        </select>
      </div>
      {NUMS.map((n) => (
        <div className="field" key={n.k}>
          <label htmlFor={`${id}-${n.k}`}>{n.label}</label>
          <input id={`${id}-${n.k}`} type="number" data-testid={n.testId} min={1} step={1} value={Number.isNaN(a[n.k]) ? '' : a[n.k]}
            aria-invalid={errors[n.k] ? true : undefined} onChange={(e) => set(n.k, e.target.value.trim() === '' ? NaN : Number(e.target.value))} />
          {errors[n.k] && <span className="field-error" role="alert">{errors[n.k]}</span>}
        </div>
      ))}
      <label className="check">
        <input type="checkbox" data-testid="analysis-sensitivity" checked={a.sensitivity} onChange={(e) => set('sensitivity', e.target.checked)} />
        Sensitivity per site
      </label>
      <label className="check">
        <input type="checkbox" data-testid="analysis-mixed" checked={a.mixedPrecision} disabled={!a.sensitivity} title={a.sensitivity ? undefined : 'The mixed-precision curve is built on the sensitivity ranking: turn on Sensitivity per site.'} onChange={(e) => set('mixedPrecision', e.target.checked)} />
        Mixed-precision curve
      </label>
    </fieldset>
  );
}
