/**
 * Accuracy of the float, calibrated and QAT models side by side (same test images), all of the model and data on
 * screen, and each quantized model's output similarity to the float model (cosine, SQNR of the first output): the
 * measure when the data has no labels. The float row is the kept float checkpoint's (the run or evaluation that made
 * it), not a cancelled run's.
 */
import { formatFixed, formatInt } from '../../format.ts';
import { dataLabelled, showsAcc5 } from '../../store/data-slice.ts';
import { useStudio } from '../../studio-context.tsx';
import type { OutputSimilarity } from '../../../quant/output-similarity.ts';

const sqnrText = (db: number) => (Number.isFinite(db) ? `${formatFixed(db, 2)} dB` : 'identical');

/** One line per output beyond the first (several outputs), for the cell's title. */
const simTitle = (s: OutputSimilarity[]) => s.map((o) => `${o.output} [${o.shape.join('x')}]: cosine ${o.cosine.toFixed(5)}, SQNR ${sqnrText(o.sqnr_db)}`).join('\n');

export function AccuracyTable() {
  const float = useStudio((s) => s.quant.float);
  const calib = useStudio((s) => s.quant.calib);
  const qat = useStudio((s) => s.quant.qat);
  const acc5 = useStudio((s) => showsAcc5(s.data));
  const labelled = useStudio((s) => dataLabelled(s.data));
  const floatName = float ? `Float (${float.how === 'evaluated' ? 'evaluated' : `trained ${float.epochs} epoch${float.epochs === 1 ? '' : 's'}`}, ${formatInt(float.testImages)} test images)` : 'Float';
  const rows = [
    { key: 'float', name: floatName, r: float, sim: null },
    { key: 'calib', name: 'Calibration (fake quant)', r: calib, sim: calib?.similarity ?? null },
    { key: 'qat', name: 'QAT (fake quant)', r: qat, sim: qat?.similarity ?? null },
  ];
  const base = float?.acc1;
  const acc = (v: number | undefined) => (v === undefined ? '–' : Number.isFinite(v) ? `${formatFixed(v, 2)}%` : 'no labels');
  return (
    <table className="results accuracy" data-testid="accuracy-table" data-acc5={acc5 ? 'shown' : 'hidden'} data-labelled={labelled ? 'yes' : 'no'}>
      <caption className="sr-only">Test accuracy and output similarity to the float model per stage</caption>
      <thead>
        <tr>
          <th scope="col">Stage</th><th scope="col">Acc@1</th>{acc5 && <th scope="col">Acc@5</th>}<th scope="col">Δ vs float</th>
          <th scope="col" title="Mean per-image cosine of the output and the float model's, on the test images">Output cosine</th>
          <th scope="col" title="10·log10(Σ float² / Σ (quantized − float)²) over the test images' outputs">Output SQNR</th>
        </tr>
      </thead>
      <tbody>
        {rows.map(({ key, name, r, sim }) => (
          <tr key={key} data-testid={`acc-${key}`} data-acc1={r ? r.acc1 : ''} data-sqnr={sim?.[0] ? sim[0].sqnr_db : ''} data-cosine={sim?.[0] ? sim[0].cosine : ''}>
            <td>{name}</td>
            <td>{r ? acc(r.acc1) : '–'}</td>
            {acc5 && <td>{r ? acc(r.acc5) : '–'}</td>}
            <td>{r && base !== undefined && key !== 'float' && Number.isFinite(r.acc1 - base) ? `${r.acc1 - base >= 0 ? '+' : ''}${formatFixed(r.acc1 - base, 2)}` : '–'}</td>
            <td title={sim ? simTitle(sim) : undefined}>{key === 'float' ? 'reference' : sim?.[0] ? formatFixed(sim[0].cosine, 5) : '–'}</td>
            <td title={sim ? simTitle(sim) : undefined}>{key === 'float' ? 'reference' : sim?.[0] ? sqnrText(sim[0].sqnr_db) : '–'}</td>
          </tr>
        ))}
      </tbody>
    </table>
  );
}
