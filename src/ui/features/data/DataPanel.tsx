/**
 * The Data panel: the loaded data (built-in Fashion-MNIST from the start), drag-in or pickers for a
 * folder of class folders, a .zip, IDX or CIFAR-10 files; decoding progress; a clear error naming the
 * bad file while the current data stays; preview, class counts, split and preprocessing.
 */
import { useState, type DragEvent } from 'react';
import { formatFixed, formatInt } from '../../format.ts';
import { isLive } from '../../store/run-reducer.ts';
import { useStudio } from '../../studio-context.tsx';
import { dataLabelled } from '../../store/data-slice.ts';
import { useData } from '../../controllers-context.tsx';
import { DataPreview } from './DataPreview.tsx';
import { filesFromDrop, filesFromInput } from './drop-files.ts';
import { PrepControls } from './PrepControls.tsx';

const KIND: Record<string, string> = {
  builtin: 'built-in', idx: 'IDX files', cifar: 'CIFAR-10 binary', zip: 'zip of images', 'image-folder': 'folder of images',
};

export function DataPanel() {
  const data = useStudio((s) => s.data);
  const busy = useStudio((s) => isLive(s.run.status) || s.quant.job.status !== 'idle');
  const dismiss = useStudio((s) => s.dismissDataError);
  const ctl = useData();
  const [over, setOver] = useState(false);
  const decoding = data.status !== 'ready';
  const s = data.summary;
  const labelled = dataLabelled(data);
  const lockedWhy = busy ? 'Locked while a job runs (cancel it to change the data).' : decoding ? 'Wait for the data being decoded.' : undefined;

  const onDrop = async (e: DragEvent) => {
    e.preventDefault();
    setOver(false);
    if (busy || decoding) return;
    const { files, source } = await filesFromDrop(e.dataTransfer);
    ctl.decode(files, source);
  };
  const onPick = (folder: boolean) => (e: React.ChangeEvent<HTMLInputElement>) => {
    const { files, source } = filesFromInput(e.target.files ?? new DataTransfer().files, folder && !e.target.files?.length ? 'the chosen folder' : undefined);
    e.target.value = '';
    ctl.decode(files, source);
  };

  return (
    <section className="panel" data-testid="panel-data" aria-labelledby="data-h">
      <h2 id="data-h">Data</h2>
      <div className={`dropzone${over ? ' over' : ''}`} data-testid="data-dropzone" role="group" aria-label="Drop data here"
        onDragOver={(e) => { e.preventDefault(); setOver(true); }} onDragLeave={() => setOver(false)} onDrop={(e) => void onDrop(e)}>
        <p>Drop a folder of class folders (PNG/JPEG) or of unlabelled images, a .zip of one, MNIST/Fashion-MNIST IDX files (.gz or raw) or CIFAR-10 .bin batches here, or</p>
        <div className="buttons">
          <label className="button-like" title={lockedWhy}>Choose files…
            <input type="file" multiple className="sr-only" data-testid="data-file-input" disabled={busy || decoding}
              accept=".gz,.zip,.bin,.png,.jpg,.jpeg,.idx3-ubyte,.idx1-ubyte,application/zip,image/*,*" onChange={onPick(false)} />
          </label>
          <label className="button-like" title={lockedWhy}>Choose a folder…
            <input type="file" className="sr-only" data-testid="data-folder-input" disabled={busy || decoding}
              {...{ webkitdirectory: '', directory: '' }} onChange={onPick(true)} />
          </label>
          <button type="button" data-testid="data-builtin" disabled={busy || decoding || s?.kind === 'builtin'} onClick={() => ctl.loadBuiltin()}
            title={lockedWhy ?? (s?.kind === 'builtin' ? 'The built-in Fashion-MNIST is the loaded data.' : undefined)}>
            Use built-in Fashion-MNIST
          </button>
        </div>
      </div>
      {lockedWhy && busy && <p className="why" data-testid="data-why">{lockedWhy}</p>}
      <p className="run-status" data-testid="data-status" data-status={data.status} data-kind={s?.kind ?? ''} role="status" aria-live="polite">
        {data.status === 'loading' ? 'Loading the built-in Fashion-MNIST…'
          : data.status === 'decoding' ? `Decoding${data.progress ? ` (${data.progress.stage}: ${data.progress.done} / ${data.progress.total})` : '…'}`
          : s ? `Loaded: ${s.name}` : 'No data'}
      </p>
      {decoding && (
        <div className="progress" role="progressbar" data-testid="data-progress" aria-label="Decoding progress" aria-valuemin={0} aria-valuemax={100}
          aria-valuenow={data.progress ? Math.round((100 * data.progress.done) / Math.max(1, data.progress.total)) : 0}>
          <div className="progress-fill" style={{ width: `${data.progress ? (100 * data.progress.done) / Math.max(1, data.progress.total) : 5}%` }} />
        </div>
      )}
      {data.error && (
        <div className="error" role="alert" data-testid="data-error" data-file={data.error.file}>
          <strong>Could not load <code>{data.error.file}</code>:</strong> {data.error.message.replace(`${data.error.file}: `, '')}
          {s && <span> The current data ({s.name}) stays loaded.</span>}
          <button type="button" className="link-button" onClick={dismiss}>Dismiss</button>
        </div>
      )}
      {s ? (
        <>
          <dl className="facts" data-testid="data-info">
            <div><dt>Data set</dt><dd data-testid="data-name" title={s.source}>{s.name}</dd></div>
            <div><dt>Kind</dt><dd data-testid="data-kind">{KIND[s.kind]}</dd></div>
            <div><dt>Image</dt><dd data-testid="data-shape">{s.shape.join(' × ')}</dd></div>
            <div><dt>Train / test</dt><dd data-testid="data-counts">{formatInt(s.trainCount)} / {formatInt(s.testCount)}</dd></div>
            <div><dt>Classes</dt><dd data-testid="data-classes" data-labelled={labelled ? 'yes' : 'no'}>
              {labelled ? s.classNames.length : `${s.labelled === false ? 'no labels' : `${s.classNames.length}, used without labels`} (calibration, distillation QAT, output similarity)`}</dd></div>
            <div><dt>Mean / std</dt><dd title="per channel, [0, 1] scale">{s.stats.mean.map((m) => formatFixed(m, 3)).join(',')} / {s.stats.std.map((m) => formatFixed(m, 3)).join(',')}</dd></div>
          </dl>
          <p className="hint" data-testid="data-split">Split: {s.split}</p>
          <PrepControls disabled={busy || decoding} />
          <DataPreview s={s} />
        </>
      ) : (
        <p className="empty-state">{data.status === 'loading' ? 'Loading…' : 'No data loaded yet: drop some above.'}</p>
      )}
    </section>
  );
}
