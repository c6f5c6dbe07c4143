/** The selected node: op, ids of its fused parts, shape, dtype, scales (per channel for weights), histogram, metric values. */
import { Histogram } from '../../charts/Histogram.tsx';
import type { ViewNode } from '../../graph-view/graph-model.ts';
import { METRICS } from '../../store/graph-slice.ts';
import { useStudio } from '../../studio-context.tsx';
import { METRIC_NAMES } from './GraphLegend.tsx';

export function NodeDetails({ node, weightParam }: { node: ViewNode | null; weightParam: string | null }) {
  const scales = useStudio((s) => s.quant.qat?.scales ?? s.quant.calib?.scales ?? null);
  const hist = useStudio((s) => (node ? s.quant.calib?.histograms.find((h) => h.node === node.id) ?? null : null));
  const overlays = useStudio((s) => s.graphView.overlays);
  const close = useStudio((s) => s.selectNode);
  if (!node) return <p className="empty-state" data-testid="node-details-empty">Click a node (or press Enter on it) for its details.</p>;
  const act = scales?.activations[node.id];
  const w = weightParam ? scales?.weights[weightParam] : undefined;
  return (
    <div className="node-details" data-testid="node-details" data-node={node.id} aria-live="polite">
      <h3><code>{node.id}</code> <button type="button" className="link-button" onClick={() => close(null)}>Close</button></h3>
      <dl className="facts">
        <div><dt>Op</dt><dd data-testid="detail-op">{node.op}</dd></div>
        <div><dt>Attributes</dt><dd data-testid="detail-attrs">{node.detail || '–'}</dd></div>
        <div><dt>Output shape</dt><dd>{node.shape.join(' × ')}</dd></div>
        <div><dt>dtype</dt><dd data-testid="detail-dtype">{node.dtype}</dd></div>
        <div><dt>Activation scale</dt><dd data-testid="detail-scale">{act !== undefined ? act.toPrecision(4) : '–'}</dd></div>
        <div><dt>Inputs</dt><dd title={node.inputs.join(', ')}>{node.inputs.join(', ') || '–'}</dd></div>
        {METRICS.map((m) => overlays[m]?.[node.id] !== undefined && (
          <div key={m}><dt>{METRIC_NAMES[m]}</dt><dd>{overlays[m]![node.id].toPrecision(4)}</dd></div>
        ))}
      </dl>
      {node.fusedFrom && (
        <p data-testid="detail-fused">Fused from: {node.fusedFrom.map((f) => <code key={f} className="chip">{f}</code>)}</p>
      )}
      {w && (
        <details open={w.length <= 16}>
          <summary>Weight scales per output channel ({w.length})</summary>
          <ol className="scales" data-testid="detail-weight-scales" start={0}>{w.map((v, i) => <li key={i}>{v.toPrecision(3)}</li>)}</ol>
        </details>
      )}
      {hist && <Histogram h={hist} width={300} height={100} />}
    </div>
  );
}
