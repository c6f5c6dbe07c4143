/** Per QAT epoch: the loss and the output similarity to the float model on the test images (the curve without labels). */
import { formatFixed } from '../../format.ts';
import type { QatEpochPoint } from '../../store/quant-slice.ts';

export function QatEpochSimilarity({ epochs }: { epochs: readonly QatEpochPoint[] }) {
  const shown = epochs.filter((e) => e.sqnr !== undefined);
  if (shown.length === 0) return null;
  return (
    <table className="results" data-testid="qat-similarity" data-epochs={shown.length}>
      <caption>Output similarity to the float model per QAT epoch</caption>
      <thead><tr><th scope="col">Epoch</th><th scope="col">Loss</th><th scope="col">Output cosine</th><th scope="col">Output SQNR</th></tr></thead>
      <tbody>
        {shown.map((e) => (
          <tr key={e.epoch} data-sqnr={e.sqnr}>
            <td>{e.epoch}</td>
            <td>{formatFixed(e.loss, 6)}</td>
            <td>{formatFixed(e.cosine ?? NaN, 5)}</td>
            <td>{Number.isFinite(e.sqnr) ? `${formatFixed(e.sqnr!, 2)} dB` : 'identical'}</td>
          </tr>
        ))}
      </tbody>
    </table>
  );
}
