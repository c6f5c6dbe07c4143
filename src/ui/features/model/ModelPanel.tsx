/** Model choice and what it costs: parameters, MACs per image, input shape. */
import { useId } from 'react';
import { MODEL_NAMES } from '../../../models/zoo.ts';
import { formatCompact, formatInt } from '../../format.ts';
import { inputShapeOf } from '../../store/data-slice.ts';
import { isLive } from '../../store/run-reducer.ts';
import { useStudio } from '../../studio-context.tsx';
import { describeModel } from './model-info.ts';

export function ModelPanel() {
  const modelName = useStudio((s) => s.modelName);
  const setModel = useStudio((s) => s.setModel);
  const busy = useStudio((s) => isLive(s.run.status) || s.quant.job.status !== 'idle');
  const shape = useStudio((s) => inputShapeOf(s.data).join('x'));
  const classes = useStudio((s) => s.data.summary?.classNames.length ?? 10);
  const id = useId();
  const info = describeModel(modelName, shape.split('x').map(Number), classes);
  return (
    <section className="panel" data-testid="panel-model" aria-labelledby={`${id}-h`}>
      <h2 id={`${id}-h`}>Model</h2>
      <div className="field">
        <label htmlFor={`${id}-model`}>Zoo model</label>
        <select id={`${id}-model`} data-testid="model-select" value={modelName} disabled={busy}
          onChange={(e) => setModel(e.target.value)}>
          {MODEL_NAMES.map((n) => <option key={n} value={n}>{n}</option>)}
        </select>
      </div>
      <dl className="facts" data-testid="model-info">
        <div><dt>Parameters</dt><dd data-testid="model-params" title={formatInt(info.parameters)}>{formatInt(info.parameters)}</dd></div>
        <div><dt>MACs / image</dt><dd data-testid="model-macs" title={formatInt(info.macs)}>{formatCompact(info.macs)}</dd></div>
        <div><dt>Input</dt><dd data-testid="model-input">{info.inputShape.join(' × ')}</dd></div>
        <div><dt>Classes</dt><dd>{info.numClasses}</dd></div>
        <div><dt>Conv / linear</dt><dd>{info.convLayers} / {info.linearLayers}</dd></div>
        <div><dt>Graph nodes</dt><dd>{info.nodes}</dd></div>
      </dl>
    </section>
  );
}
