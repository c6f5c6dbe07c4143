/** The graph overlays of an analysis: per layer the cosine and SQNR of the compared stages (keyed by node id). */
import type { AnalyzeReport } from '../../../quant/analysis/report.ts';
import type { AnalysisMetric, Overlay } from '../../store/graph-slice.ts';

export function analysisOverlays(r: AnalyzeReport): Record<AnalysisMetric, Overlay> {
  const finite = r.layers.map((l) => l.sqnr_db).filter((v): v is number => v !== null);
  const best = finite.length ? Math.max(...finite) : 100; // an exact layer is drawn at the best finite SQNR
  const out: Record<AnalysisMetric, Overlay> = { analysisCosine: {}, analysisSqnr: {} };
  for (const l of r.layers) {
    out.analysisCosine[l.name] = l.cosine;
    out.analysisSqnr[l.name] = l.sqnr_db ?? best;
  }
  return out;
}
