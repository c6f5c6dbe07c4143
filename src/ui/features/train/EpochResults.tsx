/** Per-epoch test results of the current (or last) run. */
import { formatFixed } from '../../format.ts';
import { useStudio } from '../../studio-context.tsx';
import { showsAcc5 } from '../../store/data-slice.ts';

export function EpochResults() {
  const epochs = useStudio((s) => s.run.epochs);
  const testImages = useStudio((s) => s.run.testImages);
  const acc5 = useStudio((s) => showsAcc5(s.data));
  return (
    <section className="panel" aria-labelledby="epoch-results-h">
      <h2 id="epoch-results-h">Epoch results{testImages > 0 && <span className="hint"> on {testImages} test images</span>}</h2>
      <table className="results" data-testid="epoch-results" data-rows={epochs.length} data-acc5={acc5 ? 'shown' : 'hidden'}>
        <thead>
          <tr><th scope="col">Epoch</th><th scope="col">Train loss</th><th scope="col">Test acc@1</th>{acc5 && <th scope="col">Test acc@5</th>}</tr>
        </thead>
        <tbody>
          {epochs.length === 0
            ? <tr><td colSpan={acc5 ? 4 : 3} className="empty-row">No completed epoch yet</td></tr>
            : epochs.map((e) => (
              <tr key={e.epoch} data-testid="epoch-row">
                <td>{e.epoch}</td><td>{formatFixed(e.loss, 4)}</td><td>{formatFixed(e.acc1, 2)}%</td>{acc5 && <td>{formatFixed(e.acc5, 2)}%</td>}
              </tr>
            ))}
        </tbody>
      </table>
    </section>
  );
}
