/** Quantize settings: march, qconfig template, observer, weight width, PTQ algorithms, calibration batches and QAT sizes. */
import { useId } from 'react';
import { MARCHES } from '../../../qmath/march.ts';
import { OBSERVER_NAMES } from '../../../quant/observers/index.ts';
import { QCONFIG_TEMPLATES, WEIGHT_BITS } from '../../../quant/qconfig.ts';
import { AUTO_CALIB_CRITERIA, AUTO_CALIB_CRITERION_LABELS, AUTO_CALIB_DEFAULT_CRITERION, AUTO_CALIB_DEFAULT_GATE, AUTO_CALIB_GATES, AUTO_CALIB_OBSERVERS } from '../../../quant/ptq/auto-calib.ts';
import type { QuantSettingsState } from '../../store/quant-slice.ts';
import { NUMS, numberErrors, qatDistills } from './quant-settings-rules.ts';
import { useStudio } from '../../studio-context.tsx';
import type { DistillLoss } from '../../../train/distill.ts';
import { dataLabelled } from '../../store/data-slice.ts';

export { numberErrors } from './quant-settings-rules.ts';

/** Why the distillation settings are off. */
const NOT_DISTILLING = 'Used by QAT by distillation only: turn it on above.';

export function QuantSettings({ disabled }: { disabled: boolean }) {
  const q = useStudio((s) => s.quant.settings);
  const set = useStudio((s) => s.setQuantSetting);
  const id = useId();
  const errors = numberErrors(q);
  const unlabelled = useStudio((s) => !!s.data.summary && !dataLabelled(s.data));
  const distills = useStudio(qatDistills);
  return (
    <fieldset className="grid-fields quant-settings" disabled={disabled} title={disabled ? 'Locked while a job runs (cancel it to change the settings).' : undefined}>
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
      <div className="field">
        <label htmlFor={`${id}-wbits`}>Weights</label>
        <select id={`${id}-wbits`} data-testid="quant-weight-bits" value={q.weightBits} onChange={(e) => set('weightBits', Number(e.target.value) as QuantSettingsState['weightBits'])}>
          {WEIGHT_BITS.map((b) => <option key={b} value={b}>int{b} per channel</option>)}
        </select>
      </div>
      <div className="field">
        <label htmlFor={`${id}-auto`}>
          <input id={`${id}-auto`} type="checkbox" data-testid="quant-auto-calib" checked={q.autoCalib} onChange={(e) => set('autoCalib', e.target.checked)} />
          {' '}Automatic calibration: per site, the candidate with the smallest distance to the float model
        </label>
        {q.autoCalib && (
          <div className="checks" role="group" aria-label="Automatic calibration candidates" data-testid="quant-auto-calib-observers">
            {AUTO_CALIB_OBSERVERS.map((o) => (
              <label key={o}>
                <input type="checkbox" value={o} checked={q.autoCalibObservers.includes(o)}
                  onChange={(e) => set('autoCalibObservers', AUTO_CALIB_OBSERVERS.filter((x) => (x === o ? e.target.checked : q.autoCalibObservers.includes(x))))} />
                {' '}{o}
              </label>
            ))}
          </div>
        )}
        {q.autoCalib && (
          <select aria-label="Automatic calibration criterion" data-testid="quant-auto-calib-criterion" value={q.autoCalibCriterion ?? AUTO_CALIB_DEFAULT_CRITERION}
            onChange={(e) => set('autoCalibCriterion', e.target.value as (typeof AUTO_CALIB_CRITERIA)[number])}>
            {AUTO_CALIB_CRITERIA.map((c) => <option key={c} value={c}>{c}: {AUTO_CALIB_CRITERION_LABELS[c]}</option>)}
          </select>
        )}
        {q.autoCalib && (
          <select aria-label="Automatic calibration gate" data-testid="quant-auto-calib-gate" value={q.autoCalibGate ?? AUTO_CALIB_DEFAULT_GATE}
            title="A site moves only where the candidate is better image by image: the paired z of the per-image improvement at least this"
            onChange={(e) => set('autoCalibGate', Number(e.target.value))}>
            {AUTO_CALIB_GATES.map((z) => <option key={z} value={z}>{z === 0 ? 'move on any improvement' : `move only where z ≥ ${z} (consistent over the images)`}</option>)}
          </select>
        )}
        {q.autoCalib && (
          <input type="text" aria-label="More candidates with a parameter" data-testid="quant-auto-calib-params" value={q.autoCalibParams}
            placeholder="with a parameter: percentile:99.9, clip_std:4" aria-invalid={errors.autoCalibObservers ? true : undefined}
            onChange={(e) => set('autoCalibParams', e.target.value)} />
        )}
        {errors.autoCalibObservers && <span className="field-error" role="alert">{errors.autoCalibObservers}</span>}
      </div>
      <div className="field">
        <label htmlFor={`${id}-distill`}>
          <input id={`${id}-distill`} type="checkbox" data-testid="quant-distill" checked={distills} disabled={unlabelled}
            title={unlabelled ? 'The data has no labels: QAT distills from the float model.' : undefined}
            onChange={(e) => set('qatDistill', e.target.checked)} />
          {' '}QAT by distillation (the float model teaches{unlabelled ? '' : '; with the labels\' cross-entropy added'})
        </label>
        {unlabelled && <span className="hint" data-testid="quant-distill-why">The data has no labels: QAT distills from the float model.</span>}
      </div>
      <div className="field">
        <label htmlFor={`${id}-dloss`}>Distillation loss</label>
        <select id={`${id}-dloss`} data-testid="quant-distill-loss" value={q.distillLoss ?? 'mse'} disabled={!distills} title={distills ? undefined : NOT_DISTILLING}
          onChange={(e) => set('distillLoss', e.target.value as DistillLoss)}>
          <option value="mse">MSE between the outputs</option>
          <option value="kl">KL on the logits (classifiers)</option>
        </select>
      </div>
      {NUMS.map((n) => (
        <div className="field" key={n.k}>
          <label htmlFor={`${id}-${n.k}`}>{n.label}</label>
          <input id={`${id}-${n.k}`} type="number" data-testid={n.testId} min={n.min} max={n.max} step={n.step}
            value={Number.isNaN(q[n.k]) ? '' : q[n.k] ?? 0} disabled={n.k === 'featureWeight' && !distills}
            title={n.k === 'featureWeight' && !distills ? NOT_DISTILLING : undefined} aria-invalid={errors[n.k] ? true : undefined}
            onChange={(e) => set(n.k, e.target.value.trim() === '' ? NaN : Number(e.target.value))} />
          {errors[n.k] && <span className="field-error" role="alert">{errors[n.k]}</span>}
        </div>
      ))}
      <div className="field">
        <label htmlFor={`${id}-exclude`}>AdaRound exclude_prefix (node ids, comma-separated)</label>
        <input id={`${id}-exclude`} type="text" data-testid="quant-adaround-exclude" value={q.adaroundExclude} placeholder="none"
          onChange={(e) => set('adaroundExclude', e.target.value)} />
      </div>
    </fieldset>
  );
}
