/**
 * Per-layer comparison, worst first (lowest SQNR, then largest error in LSB): a row is a button that jumps to the
 * node in the Graph panel, with the graph coloured by the chosen metric.
 */
import { useId } from 'react';
import type { LayerStats } from '../../../quant/deploy-check.ts';
import { formatFixed } from '../../format.ts';
import { metricOf } from '../../store/deploy-slice.ts';
import { METRICS, type Metric } from '../../store/graph-slice.ts';
import { useStudio } from '../../studio-context.tsx';
import { METRIC_NAMES } from '../graph/GraphLegend.tsx';

const fmt: Record<Metric, (v: number) => string> = {
  cosine: (v) => formatFixed(v, 6),
  sqnr: (v) => (Number.isFinite(v) ? formatFixed(v, 1) : 'exact'),
  maxLsb: (v) => (v < 100 ? formatFixed(v, 2) : v.toExponential(2)),
};

export function LayerTable() {
  const layers = useStudio((s) => s.deploy.result?.layers ?? null);
  const metric = useStudio((s) => s.deploy.metric);
  const selected = useStudio((s) => s.graphView.selected);
  const setMetric = useStudio((s) => s.setDeployMetric);
  const selectNode = useStudio((s) => s.selectNode);
  const setColorBy = useStudio((s) => s.setColorBy);
  const setSearch = useStudio((s) => s.setGraphSearch);
  const setFused = useStudio((s) => s.setGraphFused);
  const id = useId();
  if (!layers) return null;

  const jump = (l: LayerStats) => {
    setFused(true); // the layers are nodes of the fused graph
    setColorBy(metric);
    // A search filter would dim the node the row jumps to: clear it.
    setSearch('');
    selectNode(l.name);
    document.getElementById('step-graph')?.scrollIntoView({ block: 'start' });
  };
  const chooseMetric = (m: Metric) => {
    setMetric(m);
    setColorBy(m);
  };

  return (
    <div className="deploy-layers">
      <div className="deploy-layers-bar">
        <h3 id={`${id}-h`}>Per layer, worst first</h3>
        <div className="field inline-field">
          <label htmlFor={`${id}-metric`}>Colour the graph by</label>
          <select id={`${id}-metric`} data-testid="deploy-metric" value={metric} onChange={(e) => chooseMetric(e.target.value as Metric)}>
            {METRICS.map((m) => <option key={m} value={m}>{METRIC_NAMES[m]}</option>)}
          </select>
        </div>
      </div>
      <div className="deploy-layers-scroll">
        <table className="results deploy-layer-table" data-testid="deploy-layers" data-count={layers.length} aria-labelledby={`${id}-h`}>
          <thead>
            <tr>
              <th scope="col">Layer</th><th scope="col">dtype</th><th scope="col">equal %</th>
              <th scope="col">max LSB</th><th scope="col">cosine</th><th scope="col">SQNR dB</th>
            </tr>
          </thead>
          <tbody>
            {layers.map((l) => (
              <tr key={l.name} data-testid="deploy-layer-row" data-layer={l.name} data-metric-value={metricOf(l, metric)}
                className={selected === l.name ? 'selected' : undefined}>
                <td>
                  <button type="button" className="link-button row-button" data-testid="deploy-layer-jump" onClick={() => jump(l)}
                    aria-label={`Show ${l.name} in the graph, coloured by ${METRIC_NAMES[metric]}`}>{l.name}</button>
                </td>
                <td>{l.dtype}</td>
                <td>{formatFixed(100 * l.equal_frac, 2)}</td>
                <td className={metric === 'maxLsb' ? 'metric' : undefined}>{fmt.maxLsb(l.max_lsb)}</td>
                <td className={metric === 'cosine' ? 'metric' : undefined}>{fmt.cosine(l.cosine)}</td>
                <td className={metric === 'sqnr' ? 'metric' : undefined}>{fmt.sqnr(l.sqnr_db)}</td>
              </tr>
            ))}
          </tbody>
        </table>
      </div>
      <p className="hint">LSB of an int32 output = input scale × weight scale of its channel. Click a layer to see it in the graph.</p>
    </div>
  );
}
