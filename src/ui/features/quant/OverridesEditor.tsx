/** Per-node overrides: activation dtype (int8 / int16), a fixed scale, int32 output (conv/linear feeding the DeQuantStub). */
import { useId, useState } from 'react';
import type { NodeOverride } from '../../../quant/qconfig.ts';
import { useStudio } from '../../studio-context.tsx';

export interface OverrideTarget { id: string; op: string; int32Capable: boolean }

function describe(o: NodeOverride): string {
  const parts: string[] = [];
  if (o.activation?.dtype) parts.push(o.activation.dtype === 'qint16' ? 'int16' : 'int8');
  if (o.activation?.fixedScale) parts.push(`fixed scale ${o.activation.fixedScale}`);
  if (o.int32Output !== undefined) parts.push(o.int32Output ? 'int32 output' : 'no int32 output');
  return parts.join(', ');
}

export function OverridesEditor({ targets, disabled }: { targets: OverrideTarget[]; disabled: boolean }) {
  const overrides = useStudio((s) => s.quant.settings.overrides);
  const setOverride = useStudio((s) => s.setOverride);
  const id = useId();
  const [node, setNode] = useState('');
  const [dtype, setDtype] = useState<'' | 'qint8' | 'qint16'>('');
  const [scale, setScale] = useState('');
  const [int32, setInt32] = useState<'' | 'on' | 'off'>('');
  const target = targets.find((t) => t.id === (node || targets[0]?.id));
  const scaleNum = Number(scale);
  const scaleBad = scale.trim() !== '' && !(scaleNum > 0 && Number.isFinite(scaleNum));

  const add = () => {
    if (!target || scaleBad) return;
    const activation = { ...(dtype ? { dtype } : {}), ...(scale.trim() ? { observer: 'fixed_scale' as const, fixedScale: scaleNum, averagingConstant: 0 } : {}) };
    setOverride({
      match: target.id,
      ...(Object.keys(activation).length ? { activation } : {}),
      ...(int32 && target.int32Capable ? { int32Output: int32 === 'on' } : {}),
    });
  };

  return (
    <div className="overrides" data-testid="overrides">
      <h3>Per-node overrides</h3>
      {(disabled || targets.length === 0) && (
        <p className="why" data-testid="overrides-why">{disabled ? 'Locked while a job runs.' : 'No activation site to override: the model has no quantized region yet.'}</p>
      )}
      <fieldset className="override-form" disabled={disabled || targets.length === 0}
        title={disabled ? 'Locked while a job runs.' : targets.length === 0 ? 'No activation site to override: the model has no quantized region yet.' : undefined}>
        <legend className="sr-only">Add an override</legend>
        <div className="field">
          <label htmlFor={`${id}-node`}>Node</label>
          <select id={`${id}-node`} data-testid="override-node" value={target?.id ?? ''} onChange={(e) => setNode(e.target.value)}>
            {targets.map((t) => <option key={t.id} value={t.id}>{t.id} ({t.op})</option>)}
          </select>
        </div>
        <div className="field">
          <label htmlFor={`${id}-dt`}>Activation dtype</label>
          <select id={`${id}-dt`} data-testid="override-dtype" value={dtype} onChange={(e) => setDtype(e.target.value as typeof dtype)}>
            <option value="">as the qconfig</option><option value="qint8">int8</option><option value="qint16">int16</option>
          </select>
        </div>
        <div className="field">
          <label htmlFor={`${id}-sc`}>Fixed scale</label>
          <input id={`${id}-sc`} type="text" inputMode="decimal" data-testid="override-scale" placeholder="observed" value={scale}
            aria-invalid={scaleBad ? true : undefined} onChange={(e) => setScale(e.target.value)} />
        </div>
        <div className="field">
          <label htmlFor={`${id}-i32`}>int32 output</label>
          <select id={`${id}-i32`} data-testid="override-int32" value={int32} disabled={!target?.int32Capable}
            title={target?.int32Capable ? undefined : 'Only a node that ends the quantized region (e.g. the last linear layer) can output int32.'} onChange={(e) => setInt32(e.target.value as typeof int32)}>
            <option value="">as the qconfig</option><option value="on">on</option><option value="off">off</option>
          </select>
        </div>
        <button type="button" data-testid="override-add" onClick={add} disabled={scaleBad} title={scaleBad ? 'The fixed scale must be a positive number.' : undefined}>Set override</button>
      </fieldset>
      {overrides.length === 0
        ? <p className="empty-state">No overrides: every node follows the qconfig.</p>
        : (
          <ul className="override-list">
            {overrides.map((o) => (
              <li key={o.match} data-testid="override-row" data-node={o.match}>
                <code>{o.match}</code>: {describe(o)}
                <button type="button" className="link-button" disabled={disabled} title={disabled ? 'Locked while a job runs.' : undefined} aria-label={`Remove the override of ${o.match}`}
                  onClick={() => setOverride({ match: o.match })}>Remove</button>
              </li>
            ))}
          </ul>
        )}
    </div>
  );
}
