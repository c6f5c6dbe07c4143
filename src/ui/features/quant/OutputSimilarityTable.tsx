/**
 * A model with several outputs: the output similarity to the float model (cosine, SQNR) of each output, per quantized
 * stage (the Accuracy table shows the first output's). Hidden for a model with one output.
 */
import { outputNameOf } from '../../../graph/ir.ts';
import { formatFixed } from '../../format.ts';
import { useStudio } from '../../studio-context.tsx';

const sqnrText = (db: number) => (Number.isFinite(db) ? `${formatFixed(db, 2)} dB` : 'identical');

export function OutputSimilarityTable() {
  const calib = useStudio((s) => s.quant.calib?.similarity ?? null);
  const qat = useStudio((s) => s.quant.qat?.similarity ?? null);
  const stages = [['calib', 'Calibration', calib], ['qat', 'QAT', qat]] as const;
  if (!stages.some(([, , sim]) => (sim?.length ?? 0) > 1)) return null;
  return (
    <table className="results" data-testid="output-similarity">
      <caption>Output similarity to the float model, per output</caption>
      <thead><tr><th scope="col">Stage</th><th scope="col">Output</th><th scope="col">shape</th><th scope="col">cosine</th><th scope="col">SQNR</th></tr></thead>
      <tbody>
        {stages.flatMap(([key, name, sim]) => (sim ?? []).map((o) => (
          <tr key={`${key}-${o.output}`} data-testid="output-similarity-row" data-stage={key} data-output={outputNameOf(o.output)} data-sqnr={o.sqnr_db} data-cosine={o.cosine}>
            <td>{name}</td><td>{outputNameOf(o.output)}</td><td>{o.shape.join('×')}</td><td>{formatFixed(o.cosine, 5)}</td><td>{sqnrText(o.sqnr_db)}</td>
          </tr>
        )))}
      </tbody>
    </table>
  );
}
