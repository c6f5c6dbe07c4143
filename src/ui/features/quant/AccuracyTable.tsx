/**
 * Accuracy of the float, calibrated and QAT models side by side (same test images), all of the model and data on
 * screen. The float row is the kept float checkpoint's (the run or evaluation that made it), not a cancelled run's.
 */
import { formatFixed, formatInt } from '../../format.ts';
import { showsAcc5 } from '../../store/data-slice.ts';
import { useStudio } from '../../studio-context.tsx';

export function AccuracyTable() {
  const float = useStudio((s) => s.quant.float);
  const calib = useStudio((s) => s.quant.calib);
  const qat = useStudio((s) => s.quant.qat);
  const acc5 = useStudio((s) => showsAcc5(s.data));
  const floatName = float ? `Float (${float.how === 'evaluated' ? 'evaluated' : `trained ${float.epochs} epoch${float.epochs === 1 ? '' : 's'}`}, ${formatInt(float.testImages)} test images)` : 'Float';
  const rows = [
    { key: 'float', name: floatName, r: float },
    { key: 'calib', name: 'Calibration (fake quant)', r: calib },
    { key: 'qat', name: 'QAT (fake quant)', r: qat },
  ];
  const base = float?.acc1;
  return (
    <table className="results accuracy" data-testid="accuracy-table" data-acc5={acc5 ? 'shown' : 'hidden'}>
      <caption className="sr-only">Test accuracy per stage</caption>
      <thead><tr><th scope="col">Stage</th><th scope="col">Acc@1</th>{acc5 && <th scope="col">Acc@5</th>}<th scope="col">Δ vs float</th></tr></thead>
      <tbody>
        {rows.map(({ key, name, r }) => (
          <tr key={key} data-testid={`acc-${key}`} data-acc1={r ? r.acc1 : ''}>
            <td>{name}</td>
            <td>{r ? `${formatFixed(r.acc1, 2)}%` : '–'}</td>
            {acc5 && <td>{r ? `${formatFixed(r.acc5, 2)}%` : '–'}</td>}
            <td>{r && base !== undefined && key !== 'float' ? `${r.acc1 - base >= 0 ? '+' : ''}${formatFixed(r.acc1 - base, 2)}` : '–'}</td>
          </tr>
        ))}
      </tbody>
    </table>
  );
}
