/**
 * The run history of the model and data on screen: every calibration, QAT and deployment check, with its
 * settings and accuracy; rename in place, delete, and pick two (A and B) for the side-by-side comparison.
 */
import { formatFixed } from '../../format.ts';
import { showsAcc5 } from '../../store/data-slice.ts';
import type { RunRecord } from '../../store/runs-slice.ts';
import { useStudio } from '../../studio-context.tsx';
import { RunCompare } from './RunCompare.tsx';

const KIND: Record<RunRecord['kind'], string> = { calib: 'Calibration', qat: 'QAT', deploy: 'Deployment check' };

function settingsText(r: RunRecord): string {
  const q = r.quant;
  const base = `${q.observer || 'template observer'}, ${q.march}`;
  if (r.kind === 'calib') return `${base}, ${q.calibBatches} × ${q.calibBatchSize} images`;
  if (r.kind === 'qat') return `${base}, ${q.qatEpochs} epoch(s), lr ${q.qatLr}, ${q.qatTrainImages} images`;
  const d = r.deploySettings;
  return `${r.source === 'qat' ? 'QAT' : 'calibrated'} model; ${d ? `${d.images} ${d.split} images` : ''}`;
}

function RunRow({ r, acc5 }: { r: RunRecord; acc5: boolean }) {
  const compare = useStudio((s) => s.runs.compare);
  const rename = useStudio((s) => s.renameRun);
  const del = useStudio((s) => s.deleteRun);
  const setCompare = useStudio((s) => s.setCompare);
  const commit = (v: string) => v.trim() && v.trim() !== r.name && rename(r.id, v);
  return (
    <tr data-testid="run-row" data-id={r.id} data-kind={r.kind} data-acc1={r.acc1}>
      <td>
        <input className="run-name" data-testid="run-name" aria-label={`Name of run ${r.name}`} defaultValue={r.name} key={r.name}
          onBlur={(e) => commit(e.target.value)} onKeyDown={(e) => { if (e.key === 'Enter') (e.target as HTMLInputElement).blur(); }} />
      </td>
      <td>{KIND[r.kind]}</td>
      <td className="hint">{settingsText(r)}</td>
      <td>{formatFixed(r.acc1, 2)}%</td>
      {acc5 && <td>{formatFixed(r.acc5, 2)}%</td>}
      <td>{r.deploy && Number.isFinite(r.deploy.agreement_top1) ? `${formatFixed(r.deploy.agreement_top1, 2)}%` : '–'}</td>
      <td className="compare-picks">
        {([0, 1] as const).map((slot) => (
          <label key={slot}>
            <input type="radio" name={`compare-${slot}`} data-testid={`run-compare-${slot === 0 ? 'a' : 'b'}`} checked={compare[slot] === r.id}
              onChange={() => setCompare(slot, r.id)} />{slot === 0 ? 'A' : 'B'}
          </label>
        ))}
      </td>
      <td><button type="button" className="link-button" data-testid="run-delete" aria-label={`Delete run ${r.name}`} onClick={() => del(r.id)}>Delete</button></td>
    </tr>
  );
}

export function RunsPanel() {
  const runs = useStudio((s) => s.runs.list);
  const acc5 = useStudio((s) => showsAcc5(s.data));
  const scope = useStudio((s) => s.scope);
  return (
    <section className="panel" data-testid="panel-runs" aria-labelledby="runs-h">
      <h2 id="runs-h">Runs{scope && <span className="hint"> of {scope.modelLabel} on {scope.dataLabel}</span>}</h2>
      {runs.length === 0
        ? <p className="empty-state" data-testid="runs-empty">Every calibration, QAT run and deployment check is kept here, to rename, delete and compare.</p>
        : (
          <table className="results runs" data-testid="runs-table" data-count={runs.length}>
            <thead>
              <tr><th scope="col">Name</th><th scope="col">Kind</th><th scope="col">Settings</th><th scope="col">Acc@1</th>{acc5 && <th scope="col">Acc@5</th>}
                <th scope="col">Agreement</th><th scope="col">Compare</th><th scope="col"><span className="sr-only">Delete</span></th></tr>
            </thead>
            <tbody>{runs.map((r) => <RunRow key={r.id} r={r} acc5={acc5} />)}</tbody>
          </table>
        )}
      <RunCompare />
    </section>
  );
}
