/**
 * What the node colours mean: dtypes, or the metric's fixed bands (docs/graph-viewer.md) with how many layers fall
 * in each, the model's range, and the nodes that have no value.
 */
import { DTYPES } from '../../graph-view/graph-model.ts';
import { bandsOf } from '../../graph-view/metric-bands.ts';
import type { ColorBy } from '../../store/graph-slice.ts';

export const METRIC_NAMES: Record<Exclude<ColorBy, 'dtype'>, string> = {
  cosine: 'cosine similarity', sqnr: 'SQNR (dB)', maxLsb: 'max error (LSB)',
  analysisCosine: 'analysis: cosine', analysisSqnr: 'analysis: SQNR (dB)',
};

export function GraphLegend({ colorBy, domain, counts }: { colorBy: ColorBy; domain: [number, number] | null; counts: Record<string, number> }) {
  if (colorBy === 'dtype') {
    return (
      <ul className="legend graph-legend" data-testid="graph-legend" data-mode="dtype">
        {DTYPES.map((d) => (
          <li key={d} data-testid={`legend-${d}`} data-count={counts[d] ?? 0}><span className={`swatch node-swatch dt-${d}`} />{d === 'int32' ? 'int32 output' : d} ({counts[d] ?? 0})</li>
        ))}
      </ul>
    );
  }
  return (
    <ul className="legend graph-legend" data-testid="graph-legend" data-mode={colorBy}>
      {domain
        ? <>
          {bandsOf(colorBy).map((b) => (
            <li key={b.name} data-testid={`legend-band-${b.name}`} data-count={counts[b.name] ?? 0}>
              <span className="swatch node-swatch" style={{ background: b.color }} />{b.name} {b.range} ({counts[b.name] ?? 0})
            </li>
          ))}
          <li className="hint">this model: {domain[0].toPrecision(3)} … {domain[1].toPrecision(3)}</li>
        </>
        : <li data-testid="legend-no-overlay">No {METRIC_NAMES[colorBy]} values yet: {colorBy.startsWith('analysis') ? 'the analysis (step 7) fills' : 'the deployment check fills'} this overlay.</li>}
      <li><span className="swatch node-swatch dt-none" />no value</li>
    </ul>
  );
}
