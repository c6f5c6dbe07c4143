/**
 * The selected node: op, attributes, weight tensors with shapes, ids of its fused parts, shape, dtype; the scales
 * of one stage (the QAT model's when there is one, else the calibration's; a switch picks the other) with the run
 * and observer behind them; per-channel weight scales as a chart; the calibration histogram with the clip range at
 * that same stage's scale, so the panel and the histogram never disagree; metric values.
 */
import { useState, type ReactNode } from 'react';
import type { Graph } from '../../../graph/ir.ts';
import { Histogram } from '../../charts/Histogram.tsx';
import type { ViewNode } from '../../graph-view/graph-model.ts';
import { METRICS } from '../../store/graph-slice.ts';
import { useStudio } from '../../studio-context.tsx';
import { METRIC_NAMES } from './GraphLegend.tsx';
import { attributesOf, scaleSourceOf, stageScalesOf, weightsOf, weightSourceOf, type Stage } from './node-facts.ts';
import { ScaleChart } from './ScaleChart.tsx';

const STAGE_NAME: Record<Stage, string> = { calib: 'calibration', qat: 'QAT' };

export function NodeDetails({ node, graph, extra }: { node: ViewNode | null; graph: Graph | null; extra?: ReactNode }) {
  const calib = useStudio((s) => s.quant.calib);
  const qat = useStudio((s) => s.quant.qat);
  const runs = useStudio((s) => s.runs.list);
  const overlays = useStudio((s) => s.graphView.overlays);
  const close = useStudio((s) => s.selectNode);
  const [picked, setPicked] = useState<Stage | null>(null);
  if (!node) return <p className="empty-state" data-testid="node-details-empty">Click a node (or press Enter on it) for its details.</p>;
  const stages = ([qat && 'qat', calib && 'calib'].filter(Boolean) as Stage[]);
  const stage: Stage | null = picked && stages.includes(picked) ? picked : stages[0] ?? null;
  const irNode = graph?.nodes.find((n) => n.id === node.id) ?? null;
  const weightParam = irNode?.params.weight ?? null;
  const hist = calib?.histograms.find((h) => h.node === node.id) ?? null;
  const calibScale = calib?.scales.activations[node.id];
  const shown = stageScalesOf(node.id, weightParam, stage === 'qat' ? qat?.scales ?? null : calib?.scales ?? null, calibScale, hist?.clip ?? null);
  const attrs = irNode && graph ? attributesOf(irNode, graph) : [];
  const tensors = irNode && graph ? weightsOf(irNode, graph) : [];
  const source = shown.act !== undefined ? scaleSourceOf(node.id, stage, runs) : null;
  const run = stage ? [...runs].reverse().find((r) => r.kind === stage) : undefined;
  return (
    <div className="node-details" data-testid="node-details" data-node={node.id} aria-live="polite">
      <h3><code title={node.id}>{node.id}</code> <button type="button" className="link-button" onClick={() => close(null)}>Close</button></h3>
      {stages.length > 1 && (
        <div className="stage-switch" role="radiogroup" aria-label="Scales of">
          {stages.map((s) => (
            <label key={s}><input type="radio" name={`stage-${node.id}`} data-testid={`detail-stage-${s}`} checked={stage === s} onChange={() => setPicked(s)} />{STAGE_NAME[s]}</label>
          ))}
        </div>
      )}
      <dl className="facts">
        <div><dt>Op</dt><dd data-testid="detail-op">{node.op}</dd></div>
        <div><dt>Attributes</dt><dd data-testid="detail-attrs">{node.detail || '–'}</dd></div>
        <div><dt>Output shape</dt><dd>{node.shape.join(' × ')}</dd></div>
        <div><dt>dtype</dt><dd data-testid="detail-dtype">{node.dtype}</dd></div>
        {node.floatIsland && <div><dt>Float island</dt><dd data-testid="detail-float-island">runs in float between DeQuant and Quant: {node.floatIsland}</dd></div>}
        <div><dt>Activation scale{stage ? ` (${STAGE_NAME[stage]})` : ''}</dt>
          <dd data-testid="detail-scale" data-stage={stage ?? ''} data-scale={shown.act ?? ''}>{shown.act !== undefined ? shown.act.toPrecision(4) : '–'}</dd></div>
        {attrs.map((a) => <div key={a.key}><dt>{a.key}</dt><dd data-testid={`detail-attr-${a.key.replace(/\s+/g, '-')}`}>{a.value}</dd></div>)}
        <div><dt>Inputs</dt><dd title={node.inputs.join(', ')}>{node.inputs.join(', ') || '–'}</dd></div>
        {METRICS.map((m) => overlays[m]?.[node.id] !== undefined && (
          <div key={m}><dt>{METRIC_NAMES[m]}</dt><dd>{overlays[m]![node.id].toPrecision(4)}</dd></div>
        ))}
      </dl>
      {extra}
      {source && <p className="hint" data-testid="detail-scale-source">Activation scale of the {source}.</p>}
      {tensors.length > 0 && (
        <ul className="chips" data-testid="detail-weights">
          {tensors.map((t) => <li key={t.name}><code className="chip">{t.role}</code> {t.name} <span className="hint">{t.shape.join('×')}</span></li>)}
        </ul>
      )}
      {node.fusedFrom && (
        <p data-testid="detail-fused">Fused from: {node.fusedFrom.map((f) => <code key={f} className="chip">{f}</code>)}</p>
      )}
      {shown.weights && (
        <>
          <h4>Weight scales per output channel ({STAGE_NAME[stage!]})</h4>
          <ScaleChart scales={shown.weights} />
          <p className="hint" data-testid="detail-weight-source">From the weights by the {weightSourceOf(run)}.</p>
          <details>
            <summary>All {shown.weights.length} values</summary>
            <ol className="scales" data-testid="detail-weight-scales" start={0}>{shown.weights.map((v, i) => <li key={i}>{v.toPrecision(3)}</li>)}</ol>
          </details>
        </>
      )}
      {hist && (
        <>
          <Histogram h={shown.clip ? { ...hist, clip: shown.clip } : hist} width={280} height={100} />
          <p className="hint" data-testid="detail-hist-note" data-scale={shown.act ?? ''} data-stage={stage ?? ''}>
            Calibration values; dashed: clip range {(shown.clip ?? hist.clip)[0].toPrecision(3)} … {(shown.clip ?? hist.clip)[1].toPrecision(3)}
            {shown.act !== undefined && stage ? ` at the ${STAGE_NAME[stage]} scale ${shown.act.toPrecision(4)}` : ''}
            {stage === 'qat' && calibScale !== undefined && shown.act !== undefined && calibScale !== shown.act ? ` (the calibration's was ${calibScale.toPrecision(4)})` : ''}.
          </p>
        </>
      )}
    </div>
  );
}
