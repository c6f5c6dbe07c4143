/**
 * Preview images of the loaded data with their labels (every class first; a filter shows one class), and the class
 * counts of both splits.
 */
import { useId, useState } from 'react';
import { ImageTile } from '../../charts/ImageTile.tsx';
import type { DataSummary } from '../../../data/summary.ts';
import { formatInt } from '../../format.ts';

/** Tiles shown with no class filter. */
const ALL_TILES = 24;

function Tile({ s, i }: { s: DataSummary; i: number }) {
  const label = s.preview.labels[i] < 0 ? 'no label' : s.classNames[s.preview.labels[i]] ?? String(s.preview.labels[i]);
  return <ImageTile pixels={s.preview.images} index={i} shape={s.shape} label={label} testId="preview-tile" data={{ label: s.preview.labels[i] }} />;
}

export function DataPreview({ s }: { s: DataSummary }) {
  const maxCount = Math.max(1, ...s.trainClassCounts);
  const [cls, setCls] = useState(-1);
  const id = useId();
  const k = cls < s.classNames.length ? cls : -1;
  const shown = Array.from({ length: s.preview.count }, (_, i) => i).filter((i) => k < 0 || s.preview.labels[i] === k).slice(0, k < 0 ? ALL_TILES : undefined);
  const unlabelled = s.labelled === false;
  return (
    <div className="data-preview">
      {!unlabelled && <div className="field inline">
        <label htmlFor={`${id}-cls`}>Preview</label>
        <select id={`${id}-cls`} data-testid="preview-class" value={k} onChange={(e) => setCls(Number(e.target.value))}>
          <option value={-1}>every class</option>
          {s.classNames.map((n, c) => <option key={n} value={c}>{n}</option>)}
        </select>
      </div>}
      <div className="tiles" data-testid="data-preview" data-count={shown.length} data-class={k}>
        {shown.map((i) => <Tile key={`${s.name}-${i}`} s={s} i={i} />)}
      </div>
      {!unlabelled && <table className="results class-counts" data-testid="class-counts" data-classes={s.classNames.length}>
        <thead><tr><th scope="col">Class</th><th scope="col">Train</th><th scope="col">Test</th><th scope="col"><span className="sr-only">Share</span></th></tr></thead>
        <tbody>
          {s.classNames.map((name, k) => (
            <tr key={name}>
              <td>{name}</td><td>{formatInt(s.trainClassCounts[k])}</td><td>{formatInt(s.testClassCounts[k])}</td>
              <td className="bar-cell"><span className="bar" style={{ width: `${(100 * s.trainClassCounts[k]) / maxCount}%` }} /></td>
            </tr>
          ))}
        </tbody>
      </table>}
    </div>
  );
}
