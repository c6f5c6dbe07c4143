/** Preprocessing: normalization (mean/std), resize of dropped images, RGB → centered YUV444. */
import { useId } from 'react';
import type { NormalizeChoice } from '../../store/data-slice.ts';
import { useStudio } from '../../studio-context.tsx';

const list = (v: number[]) => v.map((x) => +x.toFixed(4)).join(', ');
const parse = (t: string) => t.split(',').map((x) => Number(x.trim())).filter((x) => Number.isFinite(x));

export function PrepControls({ disabled }: { disabled: boolean }) {
  const prep = useStudio((s) => s.data.prep);
  const summary = useStudio((s) => s.data.summary);
  const setPrep = useStudio((s) => s.setPrep);
  const id = useId();
  const rgb = summary?.shape[0] === 3;
  return (
    <fieldset className="grid-fields prep" disabled={disabled} title={disabled ? 'Locked while a job runs or data is being decoded.' : undefined}>
      <legend className="sr-only">Preprocessing</legend>
      <div className="field">
        <label htmlFor={`${id}-norm`}>Normalization</label>
        <select id={`${id}-norm`} data-testid="prep-normalize" value={prep.normalize} disabled={prep.yuv}
          title={prep.yuv ? 'YUV444 input has a fixed normalization ((x − 128) / 128).' : undefined}
          onChange={(e) => setPrep({ normalize: e.target.value as NormalizeChoice })}>
          <option value="pixel/255">pixel / 255 (zoo default)</option>
          <option value="dataset">mean / std of this data</option>
          <option value="custom">custom mean / std</option>
        </select>
      </div>
      {prep.normalize === 'custom' && !prep.yuv && (
        <>
          <div className="field">
            <label htmlFor={`${id}-mean`}>Mean (per channel)</label>
            <input id={`${id}-mean`} type="text" data-testid="prep-mean" defaultValue={list(prep.mean)} onBlur={(e) => setPrep({ mean: parse(e.target.value) })} />
          </div>
          <div className="field">
            <label htmlFor={`${id}-std`}>Std (per channel)</label>
            <input id={`${id}-std`} type="text" data-testid="prep-std" defaultValue={list(prep.std)} onBlur={(e) => setPrep({ std: parse(e.target.value).map((x) => Math.max(x, 1e-3)) })} />
          </div>
        </>
      )}
      <div className="field check">
        <label>
          <input type="checkbox" data-testid="prep-yuv" checked={prep.yuv} disabled={!rgb} title={!rgb ? 'YUV444 needs RGB (3-channel) data.' : undefined}
            onChange={(e) => setPrep({ yuv: e.target.checked })} />
          RGB → centered YUV444 (full swing; QuantStub scale 1/128){!rgb && <span className="hint"> needs RGB data</span>}
        </label>
      </div>
      <div className="field check">
        <label>
          <input type="checkbox" data-testid="prep-without-labels" checked={!!prep.withoutLabels || summary?.labelled === false}
            disabled={summary?.labelled === false} onChange={(e) => setPrep({ withoutLabels: e.target.checked })}
            title={summary?.labelled === false ? 'The data has no labels.' : 'Calibrate, distill and compare with the float model on the images alone.'} />
          Use without labels{summary?.labelled === false && <span className="hint"> the data has none</span>}
        </label>
      </div>
      <div className="field check">
        <label>
          <input type="checkbox" data-testid="prep-resize" checked={prep.resize !== null}
            onChange={(e) => setPrep({ resize: e.target.checked ? [summary?.shape[1] ?? 28, summary?.shape[2] ?? 28] : null })} />
          Resize dropped images to
        </label>
        {prep.resize && (
          <span className="inline-inputs">
            <input type="number" aria-label="Resize height" data-testid="prep-resize-h" min={4} max={256} value={prep.resize[0]}
              onChange={(e) => setPrep({ resize: [Number(e.target.value), prep.resize![1]] })} />×
            <input type="number" aria-label="Resize width" data-testid="prep-resize-w" min={4} max={256} value={prep.resize[1]}
              onChange={(e) => setPrep({ resize: [prep.resize![0], Number(e.target.value)] })} />
          </span>
        )}
      </div>
    </fieldset>
  );
}
