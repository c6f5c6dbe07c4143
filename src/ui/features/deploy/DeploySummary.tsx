/** The check's headline: top-1 agreement of the simulator with the fake-quant model, and the accuracy of each. */
import { formatFixed } from '../../format.ts';
import { useStudio } from '../../studio-context.tsx';
import { showsAcc5 } from '../../store/data-slice.ts';

/** Accuracy in percent; NaN (the data has no labels) reads as such. */
const pctOrNoLabels = (v: number) => (Number.isFinite(v) ? `${formatFixed(v, 2)}%` : 'no labels');

export function DeploySummary() {
  const r = useStudio((s) => s.deploy.result);
  const a = useStudio((s) => s.deploy.artifacts);
  const simSpeed = useStudio((s) => s.deploy.job.simImagesPerSecond);
  const acc5 = useStudio((s) => showsAcc5(s.data));
  if (!r || !a) return null;
  const fq = a.source === 'qat' ? 'QAT model (fake quant)' : 'Calibrated model (fake quant)';
  return (
    <div className="deploy-summary" data-testid="deploy-summary">
      {Number.isFinite(r.agreement_top1) ? (
        <p className="deploy-agreement" data-testid="deploy-agreement" data-agreement={r.agreement_top1} data-images={r.images}>
          <strong>{formatFixed(r.agreement_top1, 2)}%</strong> top-1 agreement of the fixed-point simulator with the {a.source === 'qat' ? 'QAT' : 'calibrated'} model
          on {r.images} images
        </p>
      ) : (
        <p className="deploy-agreement" data-testid="deploy-agreement" data-agreement="" data-images={r.images}>
          The fixed-point simulator against the {a.source === 'qat' ? 'QAT' : 'calibrated'} model on {r.images} images: the outputs are not class
          scores, so they are compared per output (below), not by top-1.
        </p>
      )}
      <table className="results" data-testid="deploy-accuracy">
        <caption className="sr-only">Accuracy of the fake-quant model and of the simulator on the same images</caption>
        <thead><tr><th scope="col">Model</th><th scope="col">Acc@1</th>{acc5 && <th scope="col">Acc@5</th>}</tr></thead>
        <tbody>
          <tr data-testid="deploy-acc-fq" data-acc1={r.qat.acc1}><td>{fq}</td><td>{pctOrNoLabels(r.qat.acc1)}</td>{acc5 && <td>{pctOrNoLabels(r.qat.acc5)}</td>}</tr>
          <tr data-testid="deploy-acc-int" data-acc1={r.int.acc1}><td>Fixed-point simulator ({a.march})</td><td>{pctOrNoLabels(r.int.acc1)}</td>{acc5 && <td>{pctOrNoLabels(r.int.acc5)}</td>}</tr>
        </tbody>
      </table>
      <p className="hint">
        {formatFixed(r.seconds, 1)} s in all; simulator {Number.isFinite(simSpeed) ? `${Math.round(simSpeed)} images/s with per-layer dumps` : '–'}.
      </p>
    </div>
  );
}
