/** The training settings form: data sizes, schedule, optimizer, and which backend runs it. */
import { useId, type ChangeEvent } from 'react';
import { LIMITS, OPTIMIZERS, SCHEDULES, type BackendPreference, type OptimizerChoice, type ScheduleChoice } from '../../../train/protocol.ts';
import { isLive } from '../../store/run-reducer.ts';
import { formatInt } from '../../format.ts';
import { trainConfigNotes } from '../stage-blockers.ts';
import { DEFAULT_SETTINGS, type TrainSettings } from '../../store/training-slice.ts';
import { useController, useStudio, useStudioStore } from '../../studio-context.tsx';

type NumericKey = 'trainImages' | 'testImages' | 'epochs' | 'batchSize' | 'lr' | 'seed';

const NUMERIC: { key: NumericKey; label: string; step: number | 'any'; hint?: string }[] = [
  { key: 'trainImages', label: 'Train images', step: 1 },
  { key: 'testImages', label: 'Test images', step: 1 },
  { key: 'epochs', label: 'Epochs', step: 1 },
  { key: 'batchSize', label: 'Batch size', step: 1 },
  { key: 'lr', label: 'Learning rate', step: 'any' },
  { key: 'seed', label: 'Seed', step: 1 },
];

export function SettingsPanel() {
  const settings = useStudio((s) => s.settings);
  const setSetting = useStudio((s) => s.setSetting);
  const resetSettings = useStudio((s) => s.resetSettings);
  const busy = useStudio((s) => isLive(s.run.status));
  const preference = useStudio((s) => s.backendPreference);
  const controller = useController();
  const counts = useStudio((s) => s.data.summary);
  // Subscribing to what validation reads re-renders the form when the model or the data changes.
  useStudio((s) => s.imported);
  useStudio((s) => s.data.prep);
  // Recomputed on every render of this panel (cheap); the store holds raw numbers, NaN for blank.
  const errors = controller.errors();
  // Recomputed on each render (the subscriptions above re-render on settings and data changes).
  const notes = trainConfigNotes(useStudioStore().getState(), controller.config());
  const id = useId();

  const onNumber = (key: NumericKey) => (e: ChangeEvent<HTMLInputElement>) => {
    setSetting(key, e.target.value.trim() === '' ? Number.NaN : Number(e.target.value));
  };
  const isDefault = (Object.keys(DEFAULT_SETTINGS) as (keyof TrainSettings)[]).every((k) => Object.is(settings[k], DEFAULT_SETTINGS[k]));

  return (
    <section className="panel" aria-labelledby={`${id}-h`}>
      <h2 id={`${id}-h`}>Training</h2>
      <fieldset className="grid-fields" disabled={busy} title={busy ? 'The settings are locked while a run is in progress.' : undefined}>
        <legend className="sr-only">Training settings</legend>
        {NUMERIC.map(({ key, label, step }) => {
          const err = errors[key];
          const hint = key === 'trainImages' && counts ? `of ${formatInt(counts.trainCount)}` : key === 'testImages' && counts ? `of ${formatInt(counts.testCount)}` : undefined;
          const [lo, hi] = LIMITS[key];
          return (
            <div className="field" key={key}>
              <label htmlFor={`${id}-${key}`}>{label}{hint && <span className="hint"> {hint}</span>}</label>
              <input id={`${id}-${key}`} data-testid={`setting-${key}`} type="number" inputMode={step === 'any' ? 'decimal' : 'numeric'}
                min={lo} max={hi} step={step} value={Number.isNaN(settings[key]) ? '' : settings[key]}
                aria-invalid={err ? true : undefined} aria-describedby={err ? `${id}-${key}-err` : undefined}
                onChange={onNumber(key)} />
              {err && <span className="field-error" id={`${id}-${key}-err`} role="alert">{err}</span>}
              {!err && (key === 'trainImages' || key === 'testImages') && notes[key] && (
                <span className="hint" data-testid={`setting-${key}-note`}>{notes[key]}</span>
              )}
            </div>
          );
        })}
        <div className="field">
          <label htmlFor={`${id}-opt`}>Optimizer</label>
          <select id={`${id}-opt`} data-testid="setting-optimizer" value={settings.optimizer}
            onChange={(e) => setSetting('optimizer', e.target.value as OptimizerChoice)}>
            {OPTIMIZERS.map((o) => <option key={o} value={o}>{o === 'adamw' ? 'AdamW' : o === 'adam' ? 'Adam' : 'SGD (momentum 0.9)'}</option>)}
          </select>
        </div>
        <div className="field">
          <label htmlFor={`${id}-sched`}>LR schedule</label>
          <select id={`${id}-sched`} data-testid="setting-schedule" value={settings.schedule}
            onChange={(e) => setSetting('schedule', e.target.value as ScheduleChoice)}>
            {SCHEDULES.map((s) => <option key={s} value={s}>{s === 'onecycle' ? 'One-cycle' : s[0].toUpperCase() + s.slice(1)}</option>)}
          </select>
        </div>
        <div className="field field-wide">
          <label htmlFor={`${id}-backend`}>Backend</label>
          <select id={`${id}-backend`} data-testid="backend-select" value={preference}
            onChange={(e) => controller.setBackend(e.target.value as BackendPreference)}>
            <option value="auto">Auto (WebGPU when available)</option>
            <option value="cpu">CPU reference</option>
          </select>
        </div>
      </fieldset>
      {busy && <p className="why" data-testid="settings-why">The settings are locked while a run is in progress.</p>}
      <button type="button" className="link-button" onClick={resetSettings} disabled={busy || isDefault}
        title={busy ? 'Locked while a run is in progress.' : isDefault ? 'The settings are the defaults.' : undefined}>Reset to defaults</button>
    </section>
  );
}
