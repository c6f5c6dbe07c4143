/** Quantize settings: march, qconfig template, observer, calibration batches and QAT sizes. */
import { useId } from 'react';
import { MARCHES } from '../../../qmath/march.ts';
import { OBSERVER_NAMES } from '../../../quant/observers/index.ts';
import { QCONFIG_TEMPLATES } from '../../../quant/qconfig.ts';
import type { QuantSettingsState } from '../../store/quant-slice.ts';
import { useStudio } from '../../studio-context.tsx';

type Num = 'calibBatches' | 'calibBatchSize' | 'qatEpochs' | 'qatLr' | 'qatTrainImages';
const NUMS: { k: Num; label: string; min: number; max: number; step: number | 'any'; testId: string }[] = [
  { k: 'calibBatches', label: 'Calibration batches', min: 1, max: 1000, step: 1, testId: 'quant-calib-batches' },
  { k: 'calibBatchSize', label: 'Calibration batch size', min: 1, max: 1024, step: 1, testId: 'quant-calib-batch-size' },
  { k: 'qatEpochs', label: 'QAT epochs', min: 1, max: 100, step: 1, testId: 'quant-qat-epochs' },
  { k: 'qatLr', label: 'QAT learning rate (SGD)', min: 1e-7, max: 1, step: 'any', testId: 'quant-qat-lr' },
  { k: 'qatTrainImages', label: 'QAT train images', min: 1, max: 60000, step: 1, testId: 'quant-qat-images' },
];

export function numberErrors(q: QuantSettingsState): Partial<Record<Num, string>> {
  const out: Partial<Record<Num, string>> = {};
  for (const n of NUMS) {
    const v = q[n.k];
    if (!Number.isFinite(v)) out[n.k] = 'must be a number';
    else if (n.step === 1 && !Number.isInteger(v)) out[n.k] = 'must be a whole number';
    else if (v < n.min || v > n.max) out[n.k] = `must be between ${n.min} and ${n.max}`;
  }
  return out;
}

export function QuantSettings({ disabled }: { disabled: boolean }) {
  const q = useStudio((s) => s.quant.settings);
  const set = useStudio((s) => s.setQuantSetting);
  const id = useId();
  const errors = numberErrors(q);
  return (
    <fieldset className="grid-fields quant-settings" disabled={disabled}>
      <legend className="sr-only">Quantization settings</legend>
      <div className="field">
        <label htmlFor={`${id}-march`}>March</label>
        <select id={`${id}-march`} data-testid="quant-march" value={q.march} onChange={(e) => set('march', e.target.value as QuantSettingsState['march'])}>
          {MARCHES.map((m) => <option key={m} value={m}>{m}{m === 'bernoulli' ? ' (power-of-two scales)' : ''}</option>)}
        </select>
      </div>
      <div className="field">
        <label htmlFor={`${id}-tpl`}>qconfig template</label>
        <select id={`${id}-tpl`} data-testid="quant-template" value={q.template} onChange={(e) => set('template', e.target.value)}>
          {QCONFIG_TEMPLATES.map((t) => <option key={t} value={t}>{t}</option>)}
        </select>
      </div>
      <div className="field">
        <label htmlFor={`${id}-obs`}>Activation observer</label>
        <select id={`${id}-obs`} data-testid="quant-observer" value={q.observer} onChange={(e) => set('observer', e.target.value)}>
          <option value="">template default</option>
          {OBSERVER_NAMES.filter((o) => o !== 'per_channel_minmax').map((o) => <option key={o} value={o}>{o}</option>)}
        </select>
      </div>
      {NUMS.map((n) => (
        <div className="field" key={n.k}>
          <label htmlFor={`${id}-${n.k}`}>{n.label}</label>
          <input id={`${id}-${n.k}`} type="number" data-testid={n.testId} min={n.min} max={n.max} step={n.step}
            value={Number.isNaN(q[n.k]) ? '' : q[n.k]} aria-invalid={errors[n.k] ? true : undefined}
            onChange={(e) => set(n.k, e.target.value.trim() === '' ? NaN : Number(e.target.value))} />
          {errors[n.k] && <span className="field-error" role="alert">{errors[n.k]}</span>}
        </div>
      ))}
    </fieldset>
  );
}
