/**
 * The layer-by-layer comparison: a curve along the depth of the network (the chosen column) and the table (cosine,
 * SQNR, errors and both sides' statistics with the share clipped by the scale). A row click selects the node in the
 * graph (step 5), which the analysis overlays colour by the same comparison.
 */
import { useId, useState } from 'react';
import type { AnalyzeReport, LayerRow } from '../../../quant/analysis/report.ts';
import { useStudio } from '../../studio-context.tsx';
import { XYChart } from './XYChart.tsx';

const CURVES = {
  sqnr: { label: 'SQNR (dB)', of: (l: LayerRow) => l.sqnr_db ?? NaN },
  cosine: { label: 'cosine', of: (l: LayerRow) => l.cosine },
  maxAbs: { label: 'max |error|', of: (l: LayerRow) => l.max_abs_error },
  clipped: { label: 'clipped % (second)', of: (l: LayerRow) => (l.b.clipped ?? NaN) * 100 },
} as const;
type Curve = keyof typeof CURVES;

const g = (x: number | null) => (x === null ? 'exact' : Math.abs(x) >= 1e4 || (Math.abs(x) < 1e-3 && x !== 0) ? x.toExponential(2) : x.toFixed(3));
const pct = (x: number | null) => (x === null ? '–' : (100 * x).toFixed(2));

export function LayerView({ report }: { report: AnalyzeReport }) {
  const [curve, setCurve] = useState<Curve>('sqnr');
  const select = useStudio((s) => s.selectNode);
  const setColorBy = useStudio((s) => s.setColorBy);
  const id = useId();
  const [a, b] = report.compare;
  const pick = (name: string) => {
    select(name);
    setColorBy('analysisSqnr');
  };
  return (
    <div className="analysis-block">
      <h3>Layers: {a} vs {b} ({report.layer_images} images)</h3>
      <div className="field inline">
        <label htmlFor={`${id}-curve`}>Curve along the depth</label>
        <select id={`${id}-curve`} data-testid="analysis-layer-curve" value={curve} onChange={(e) => setCurve(e.target.value as Curve)}>
          {Object.entries(CURVES).map(([k, c]) => <option key={k} value={k}>{c.label}</option>)}
        </select>
      </div>
      <XYChart testId="analysis-depth-chart" xLabel="depth (graph order)" yLabel={CURVES[curve].label}
        points={report.layers.map((l) => ({ x: l.depth, y: CURVES[curve].of(l), key: l.name, label: `${l.name}: ${CURVES[curve].of(l)}` }))}
        onPick={(p) => pick(p.key)} />
      <div className="table-scroll">
        <table className="data-table" data-testid="analysis-layer-table">
          <thead>
            <tr><th>layer</th><th>cosine</th><th>SQNR dB</th><th>max |err|</th><th>mean err</th><th>{a} min…max</th><th>{a} clip %</th><th>{b} min…max</th><th>{b} std</th><th>{b} clip %</th></tr>
          </thead>
          <tbody>
            {report.layers.map((l) => (
              <tr key={l.name} data-testid="analysis-layer-row" data-layer={l.name} onClick={() => pick(l.name)} className="clickable">
                <td>{l.name}</td><td>{l.cosine.toFixed(5)}</td><td>{l.sqnr_db === null ? 'exact' : l.sqnr_db.toFixed(1)}</td>
                <td>{g(l.max_abs_error)}</td><td>{g(l.mean_error)}</td><td>{g(l.a.min)}…{g(l.a.max)}</td><td>{pct(l.a.clipped)}</td>
                <td>{g(l.b.min)}…{g(l.b.max)}</td><td>{g(l.b.std)}</td><td>{pct(l.b.clipped)}</td>
              </tr>
            ))}
          </tbody>
        </table>
      </div>
    </div>
  );
}
