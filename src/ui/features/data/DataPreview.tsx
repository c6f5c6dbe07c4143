/** The first images of the loaded data with their labels, and the class counts of both splits. */
import { useEffect, useRef } from 'react';
import type { DataSummary } from '../../../data/summary.ts';
import { formatInt } from '../../format.ts';

function Tile({ s, i }: { s: DataSummary; i: number }) {
  const ref = useRef<HTMLCanvasElement>(null);
  const [c, h, w] = s.shape;
  useEffect(() => {
    const ctx = ref.current?.getContext('2d');
    // A preview that does not hold this tile's pixels (a damaged saved project) draws nothing.
    if (!ctx || !(w > 0 && h > 0) || s.preview.images.length < (i + 1) * c * h * w) return;
    const img = ctx.createImageData(w, h);
    const o = i * c * h * w;
    for (let k = 0; k < h * w; k++) {
      for (let ch = 0; ch < 3; ch++) img.data[4 * k + ch] = s.preview.images[o + (c === 3 ? ch : 0) * h * w + k];
      img.data[4 * k + 3] = 255;
    }
    ctx.putImageData(img, 0, 0);
  }, [s, i, c, h, w]);
  const label = s.classNames[s.preview.labels[i]] ?? String(s.preview.labels[i]);
  return (
    <figure className="tile" data-testid="preview-tile">
      <canvas ref={ref} width={Math.max(1, w)} height={Math.max(1, h)} role="img" aria-label={label} />
      <figcaption title={label}>{label}</figcaption>
    </figure>
  );
}

export function DataPreview({ s }: { s: DataSummary }) {
  const maxCount = Math.max(1, ...s.trainClassCounts);
  return (
    <div className="data-preview">
      <div className="tiles" data-testid="data-preview" data-count={s.preview.count}>
        {Array.from({ length: s.preview.count }, (_, i) => <Tile key={`${s.name}-${i}`} s={s} i={i} />)}
      </div>
      <table className="results class-counts" data-testid="class-counts" data-classes={s.classNames.length}>
        <thead><tr><th scope="col">Class</th><th scope="col">Train</th><th scope="col">Test</th><th scope="col"><span className="sr-only">Share</span></th></tr></thead>
        <tbody>
          {s.classNames.map((name, k) => (
            <tr key={name}>
              <td>{name}</td><td>{formatInt(s.trainClassCounts[k])}</td><td>{formatInt(s.testClassCounts[k])}</td>
              <td className="bar-cell"><span className="bar" style={{ width: `${(100 * s.trainClassCounts[k]) / maxCount}%` }} /></td>
            </tr>
          ))}
        </tbody>
      </table>
    </div>
  );
}
