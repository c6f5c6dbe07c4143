/**
 * Model choice and what it costs: a zoo model, or an .onnx file dropped on the panel (or picked),
 * imported in its own worker with the input shape and preprocessing from the file or the fields here;
 * shows parameters, MACs and input shape. A failed import names the file and keeps the current model.
 */
import { useId, useState, type DragEvent } from 'react';
import { MODEL_NAMES } from '../../../models/zoo.ts';
import { formatCompact, formatInt } from '../../format.ts';
import { inputShapeOf } from '../../store/data-slice.ts';
import { isLive } from '../../store/run-reducer.ts';
import { useStudio } from '../../studio-context.tsx';
import { EMPTY_FIELDS, parseImportFields, type ImportFields } from './imported-model.ts';
import { useModelController } from './model-context.ts';
import { describeGraph, describeModel } from './model-info.ts';
import './model.css';

const IMPORTED = '__imported__';

const FIELDS: { key: keyof ImportFields; label: string; placeholder: string }[] = [
  { key: 'inputShape', label: 'Input shape (C×H×W)', placeholder: 'from the file' },
  { key: 'scale', label: 'Input scale', placeholder: '1/255' },
  { key: 'mean', label: 'Input mean', placeholder: '0 (or per channel)' },
  { key: 'std', label: 'Input std', placeholder: '1 (or per channel)' },
];

export function ModelPanel() {
  const modelName = useStudio((s) => s.modelName);
  const imported = useStudio((s) => s.imported);
  const imp = useStudio((s) => s.modelImport);
  const setModel = useStudio((s) => s.setModel);
  const dismiss = useStudio((s) => s.dismissImportError);
  const busy = useStudio((s) => isLive(s.run.status) || s.quant.job.status !== 'idle');
  const shape = useStudio((s) => inputShapeOf(s.data).join('x'));
  const classes = useStudio((s) => s.data.summary?.classNames.length ?? 10);
  const ctl = useModelController();
  const [fields, setFields] = useState<ImportFields>(EMPTY_FIELDS);
  const [over, setOver] = useState(false);
  const id = useId();
  const importing = imp.status === 'importing';
  const locked = busy || importing;
  const info = imported ? describeGraph(imported.file, imported.graph) : describeModel(modelName, shape.split('x').map(Number), classes);
  const fieldErrors = parseImportFields(fields).errors;
  const lockedWhy = busy ? 'Locked while a job runs (cancel it to change the model).' : importing ? `Wait for ${imp.file} to be imported.` : undefined;

  const onDrop = (e: DragEvent) => {
    e.preventDefault();
    setOver(false);
    const files = [...(e.dataTransfer?.files ?? [])];
    const f = files.find((x) => x.name.toLowerCase().endsWith('.onnx')) ?? files[0];
    if (f && !locked) void ctl.importFile(f, fields);
  };
  const onPick = (e: React.ChangeEvent<HTMLInputElement>) => {
    const f = e.target.files?.[0];
    e.target.value = '';
    if (f) void ctl.importFile(f, fields);
  };
  const norm = imported && (imported.normalization === 'pixel/255' ? 'pixel/255'
    : `(pixel/255 − [${imported.normalization.mean.map((v) => +v.toFixed(4))}]) / [${imported.normalization.std.map((v) => +v.toFixed(4))}]`);

  return (
    <section className="panel" data-testid="panel-model" aria-labelledby={`${id}-h`}>
      <h2 id={`${id}-h`}>Model</h2>
      <div className="field">
        <label htmlFor={`${id}-model`}>Zoo model</label>
        <select id={`${id}-model`} data-testid="model-select" value={imported ? IMPORTED : modelName} disabled={locked} title={lockedWhy}
          onChange={(e) => e.target.value !== IMPORTED && setModel(e.target.value)}>
          {imported && <option value={IMPORTED}>{imported.file} (imported)</option>}
          {MODEL_NAMES.map((n) => <option key={n} value={n}>{n}</option>)}
        </select>
      </div>
      <div className={`dropzone${over ? ' over' : ''}`} data-testid="model-dropzone" role="group" aria-label="Drop an ONNX model here"
        onDragOver={(e) => { e.preventDefault(); setOver(true); }} onDragLeave={() => setOver(false)} onDrop={onDrop}>
        <p>Or bring your own: drop an .onnx file (exported from PyTorch, opset 11–17) here, or</p>
        <div className="buttons">
          <label className="button-like" title={lockedWhy}>Choose an .onnx file…
            <input type="file" className="sr-only" data-testid="model-onnx-input" accept=".onnx,application/octet-stream" disabled={locked} onChange={onPick} />
          </label>
        </div>
        <div className="import-fields">
          {FIELDS.map((f) => (
            <div className="field" key={f.key}>
              <label htmlFor={`${id}-${f.key}`}>{f.label}</label>
              <input id={`${id}-${f.key}`} data-testid={`model-${f.key}`} value={fields[f.key]} placeholder={f.placeholder} disabled={locked}
                aria-invalid={fieldErrors[f.key] ? true : undefined} title={fieldErrors[f.key] ?? lockedWhy}
                onChange={(e) => setFields({ ...fields, [f.key]: e.target.value })} />
            </div>
          ))}
        </div>
      </div>
      {lockedWhy && <p className="why" data-testid="model-why">{lockedWhy}</p>}
      <p className="run-status" data-testid="model-status" data-status={imp.status} data-kind={imported ? 'onnx' : 'zoo'} role="status" aria-live="polite">
        {importing ? `Importing ${imp.file}…` : imported ? `Imported: ${imported.file}` : `Zoo model: ${modelName}`}
      </p>
      {imp.error && (
        <div className="error" role="alert" data-testid="model-error" data-file={imp.error.file}>
          <strong>Could not import <code>{imp.error.file}</code>:</strong> {imp.error.message}{/[.!?]$/.test(imp.error.message) ? '' : '.'}
          <span> The current model ({imported ? imported.file : modelName}) stays.</span>
          <button type="button" className="link-button" onClick={dismiss}>Dismiss</button>
        </div>
      )}
      <dl className="facts" data-testid="model-info">
        <div><dt>Parameters</dt><dd data-testid="model-params" title={formatInt(info.parameters)}>{formatInt(info.parameters)}</dd></div>
        <div><dt>MACs / image</dt><dd data-testid="model-macs" title={formatInt(info.macs)}>{formatCompact(info.macs)}</dd></div>
        <div><dt>Input</dt><dd data-testid="model-input">{info.inputShape.join(' × ')}</dd></div>
        <div><dt>Classes</dt><dd>{info.numClasses}</dd></div>
        <div><dt>Conv / linear</dt><dd>{info.convLayers} / {info.linearLayers}</dd></div>
        <div><dt>Graph nodes</dt><dd data-testid="model-nodes">{info.nodes}</dd></div>
      </dl>
      {imported && (
        <p className="hint" data-testid="model-onnx-info">
          ONNX opset {imported.opset}{imported.producer ? ` (${imported.producer})` : ''}; input {norm} ({imported.normalizationSource === 'default' ? 'default' : `from the ${imported.normalizationSource === 'file' ? 'file' : 'fields'}`}).
          {imported.inputShape.join('x') !== shape && ` The loaded data is ${shape}: load ${imported.inputShape.join('x')} data to train or evaluate it.`}
        </p>
      )}
    </section>
  );
}
