/** Deployment check settings: which model, which split of the loaded data and how many images, batch size. */
import { useId } from 'react';
import type { DeploySource } from '../../../train/quant-protocol.ts';
import { deploySettingErrors, type DeploySettingsState } from '../../store/deploy-slice.ts';
import { useStudio } from '../../studio-context.tsx';

const NUMS = [
  { k: 'images', label: 'Images', min: 1, max: 60000, testId: 'deploy-images' },
  { k: 'batchSize', label: 'Batch size', min: 1, max: 256, testId: 'deploy-batch-size' },
] as const;

export function DeploySettings({ disabled }: { disabled: boolean }) {
  const d = useStudio((s) => s.deploy.settings);
  const set = useStudio((s) => s.setDeploySetting);
  const summary = useStudio((s) => s.data.summary);
  const id = useId();
  const errors = deploySettingErrors(d);
  const splitCount = summary ? (d.split === 'test' ? summary.testCount : summary.trainCount) : null;
  return (
    <fieldset className="grid-fields deploy-settings" disabled={disabled} title={disabled ? 'Locked while a job runs (cancel it to change the settings).' : undefined}>
      <legend className="sr-only">Deployment check settings</legend>
      <div className="field">
        <label htmlFor={`${id}-src`}>Model</label>
        <select id={`${id}-src`} data-testid="deploy-source" value={d.source} onChange={(e) => set('source', e.target.value as DeploySource)}>
          <option value="auto">QAT, else calibrated</option>
          <option value="qat">QAT</option>
          <option value="calib">calibrated</option>
        </select>
      </div>
      <div className="field">
        <label htmlFor={`${id}-split`}>Data</label>
        <select id={`${id}-split`} data-testid="deploy-split" value={d.split} onChange={(e) => set('split', e.target.value as DeploySettingsState['split'])}>
          <option value="test">test split</option>
          <option value="train">train split</option>
        </select>
      </div>
      {NUMS.map((n) => (
        <div className="field" key={n.k}>
          <label htmlFor={`${id}-${n.k}`}>{n.label}{n.k === 'images' && splitCount !== null ? ` (of ${splitCount})` : ''}</label>
          <input id={`${id}-${n.k}`} type="number" data-testid={n.testId} min={n.min} max={n.max} step={1}
            value={Number.isNaN(d[n.k]) ? '' : d[n.k]} aria-invalid={errors[n.k] ? true : undefined}
            onChange={(e) => set(n.k, e.target.value.trim() === '' ? NaN : Number(e.target.value))} />
          {errors[n.k] && <span className="field-error" role="alert">{errors[n.k]}</span>}
        </div>
      ))}
    </fieldset>
  );
}
