/**
 * The selected node: op, attributes, weight tensors, ids of its fused parts, shape, dtype, the scale the shown
 * stage uses and where it comes from, per-channel weight scales, the calibration histogram with its clip range,
 * metric values.
 */
import type { Graph } from '../../../graph/ir.ts';
import { Histogram } from '../../charts/Histogram.tsx';
import { attributesOf, scaleSourceOf, weightsOf } from './node-facts.ts';
import type { ViewNode } from '../../graph-view/graph-model.ts';
import { METRICS } from '../../store/graph-slice.ts';
import { useStudio } from '../../studio-context.tsx';
import { METRIC_NAMES } from './GraphLegend.tsx';

export function NodeDetails({ node, weightParam, graph }: { node: ViewNode | null; weightParam: string | null; graph: Graph | null }) {
  const scales = useStudio((s) => s.quant.qat?.scales ?? s.quant.calib?.scales ?? null);
  const stage = useStudio((s) => (s.quant.qat ? 'qat' : s.quant.calib ? 'calib' : null));
  const calibScale = useStudio((s) => (node ? s.quant.calib?.scales.activations[node.id] : undefined));
  const runs = useStudio((s) => s.runs.list);
  const hist = useStudio((s) => (node ? s.quant.calib?.histograms.find((h) => h.node === node.id) ?? null : null));
  const overlays = useStudio((s) => s.graphView.overlays);
  const close = useStudio((s) => s.selectNode);
  if (!node) return <p className="empty-state" data-testid="node-details-empty">Click a node (or press Enter on it) for its details.</p>;
  const act = scales?.activations[node.id];
  const w = weightParam ? scales?.weights[weightParam] : undefined;
  const irNode = graph?.nodes.find((n) => n.id === node.id) ?? null;
  const attrs = irNode && graph ? attributesOf(irNode, graph) : [];
  const tensors = irNode && graph ? weightsOf(irNode, graph) : [];
  const source = act !== undefined ? scaleSourceOf(node.id, stage, runs) : null;
  return (
    <div className="node-details" data-testid="node-details" data-node={node.id} aria-live="polite">
      <h3><code>{node.id}</code> <button type="button" className="link-button" onClick={() => close(null)}>Close</button></h3>
      <dl className="facts">
        <div><dt>Op</dt><dd data-testid="detail-op">{node.op}</dd></div>
        <div><dt>Attributes</dt><dd data-testid="detail-attrs">{node.detail || '–'}</dd></div>
        <div><dt>Output shape</dt><dd>{node.shape.join(' × ')}</dd></div>
        <div><dt>dtype</dt><dd data-testid="detail-dtype">{node.dtype}</dd></div>
        <div><dt>Activation scale{stage ? ` (${stage === 'qat' ? 'QAT' : 'calibration'})` : ''}</dt><dd data-testid="detail-scale" data-stage={stage ?? ''}>{act !== undefined ? act.toPrecision(4) : '–'}</dd></div>
        {attrs.map((a) => <div key={a.key}><dt>{a.key}</dt><dd data-testid={`detail-attr-${a.key.replace(/\s+/g, '-')}`}>{a.value}</dd></div>)}
        <div><dt>Inputs</dt><dd title={node.inputs.join(', ')}>{node.inputs.join(', ') || '–'}</dd></div>
        {METRICS.map((m) => overlays[m]?.[node.id] !== undefined && (
          <div key={m}><dt>{METRIC_NAMES[m]}</dt><dd>{overlays[m]![node.id].toPrecision(4)}</dd></div>
        ))}
      </dl>
      {source && <p className="hint" data-testid="detail-scale-source">Scale of the {source}.</p>}
      {tensors.length > 0 && (
        <ul className="chips" data-testid="detail-weights">
          {tensors.map((t) => <li key={t.name}><code className="chip">{t.role}</code> {t.name} <span className="hint">{t.shape.join('×')}</span></li>)}
        </ul>
      )}
      {node.fusedFrom && (
        <p data-testid="detail-fused">Fused from: {node.fusedFrom.map((f) => <code key={f} className="chip">{f}</code>)}</p>
      )}
      {w && (
        <details open={w.length <= 16}>
          <summary>Weight scales per output channel ({w.length})</summary>
          <ol className="scales" data-testid="detail-weight-scales" start={0}>{w.map((v, i) => <li key={i}>{v.toPrecision(3)}</li>)}</ol>
        </details>
      )}
      {hist && (
        <>
          <Histogram h={hist} width={300} height={100} />
          <p className="hint" data-testid="detail-hist-note">
            Calibration values; dashed: clip range {hist.clip[0].toPrecision(3)} … {hist.clip[1].toPrecision(3)} at the calibration's scale
            {calibScale !== undefined ? ` ${calibScale.toPrecision(4)}` : ''}{stage === 'qat' && act !== undefined ? `; the QAT model uses ${act.toPrecision(4)}` : ''}.
          </p>
        </>
      )}
    </div>
  );
}
