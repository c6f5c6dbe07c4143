/**
 * What the deployment check saw image by image: a confusion matrix (true class × predicted class) of the simulator
 * or of the float model, and a grid of the images where the float model and the simulator disagree.
 */
import { useState } from 'react';
import { ImageTile } from '../../charts/ImageTile.tsx';
import { formatInt } from '../../format.ts';
import type { PredictionSamples } from '../../../train/prediction-samples.ts';
import { useStudio } from '../../studio-context.tsx';

function Confusion({ m, names }: { m: number[][]; names: string[] }) {
  const total = m.reduce((a, r) => a + r.reduce((x, y) => x + y, 0), 0);
  const correct = m.reduce((a, r, i) => a + r[i], 0);
  return (
    <table className="results confusion" data-testid="confusion-matrix" data-total={total} data-correct={correct}>
      <caption className="hint">Rows: true class; columns: predicted class ({formatInt(correct)} of {formatInt(total)} on the diagonal)</caption>
      <thead><tr><th scope="col" />{names.map((n, j) => <th scope="col" key={j} title={n}>{n.slice(0, 6)}</th>)}</tr></thead>
      <tbody>
        {m.map((row, i) => {
          const sum = Math.max(1, row.reduce((a, b) => a + b, 0));
          return (
            <tr key={i}>
              <th scope="row" title={names[i]}>{names[i]}</th>
              {row.map((v, j) => {
                // Shade by the share of the row; text stays dark on light cells and light on dark ones.
                const share = v / sum;
                const cls = v === 0 ? 'zero' : share > 0.55 ? 'high' : share > 0.15 ? 'mid' : 'low';
                return <td key={j} className={`cm ${cls}${i === j ? ' diag' : ''}`} data-count={v} title={`${names[i]} predicted as ${names[j]}: ${v}`}>{v || ''}</td>;
              })}
            </tr>
          );
        })}
      </tbody>
    </table>
  );
}

function Disagreements({ p }: { p: PredictionSamples }) {
  const n = (k: number) => p.classNames[k] ?? String(k);
  if (!p.confusionFloat) return <p className="hint" data-testid="disagree-none">No float model of this model and data to compare with.</p>;
  return (
    <>
      <p className="hint" data-testid="disagree-summary" data-count={p.disagreeCount} data-images={p.images}>
        The float model and the fixed-point simulator disagree on {formatInt(p.disagreeCount)} of {formatInt(p.images)} images
        {p.disagreeCount > p.disagree.length ? ` (the first ${p.disagree.length} are shown)` : ''}.
      </p>
      <div className="tiles" data-testid="disagree-grid" data-count={p.disagree.length}>
        {p.disagree.map((d, j) => (
          <ImageTile key={d.index} pixels={p.pixels} index={j} shape={p.shape} testId="disagree-tile"
            label={`image ${d.index}: true ${n(d.label)}, float ${n(d.float)}, simulator ${n(d.int)}`}
            caption={`${n(d.label)} · F ${n(d.float)} · S ${n(d.int)}`} data={{ label: d.label, float: d.float, int: d.int }} />
        ))}
      </div>
    </>
  );
}

export function PredictionsView() {
  const p = useStudio((s) => s.deploy.samples);
  const [of, setOf] = useState<'int' | 'float'>('int');
  if (!p) return null;
  if (p.classNames.length === 0) {
    return (
      <div className="predictions" data-testid="predictions">
        <h3>Per image</h3>
        <p className="hint" data-testid="predictions-unlabelled">The data has no labels: no confusion matrix. The per-layer table compares the simulator with the QAT model.</p>
      </div>
    );
  }
  const m = of === 'float' && p.confusionFloat ? p.confusionFloat : p.confusionInt;
  return (
    <div className="predictions" data-testid="predictions">
      <h3>Per image</h3>
      <div className="field inline">
        <label htmlFor="confusion-of">Confusion matrix of</label>
        <select id="confusion-of" data-testid="confusion-source" value={of} onChange={(e) => setOf(e.target.value as 'int' | 'float')}>
          <option value="int">the fixed-point simulator</option>
          <option value="float" disabled={!p.confusionFloat} title={p.confusionFloat ? undefined : 'This check ran without the float model (none on this data), so it has no float predictions.'}>the float model</option>
        </select>
      </div>
      <div className="scroll-x"><Confusion m={m} names={p.classNames} /></div>
      <Disagreements p={p} />
    </div>
  );
}
