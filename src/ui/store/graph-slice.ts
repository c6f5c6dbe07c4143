/**
 * The graph viewer's state: before / after fusion, what colours the nodes (dtype or a per-layer
 * metric), the search text, the selected node, and the metric overlays ({nodeId: value} per metric,
 * filled later by the deployment check). Overlays are kept apart from the graph itself.
 */
import type { SliceCreator } from './types.ts';

export const METRICS = ['cosine', 'sqnr', 'maxLsb'] as const;
export type Metric = (typeof METRICS)[number];
/** Overlays of the precision analysis (src/ui/features/analysis): the compared stages' per-layer cosine and SQNR. */
export const ANALYSIS_METRICS = ['analysisCosine', 'analysisSqnr'] as const;
export type AnalysisMetric = (typeof ANALYSIS_METRICS)[number];
export type ColorBy = 'dtype' | Metric | AnalysisMetric;
export type Overlay = Record<string, number>;

/** One graph, or two side by side: before / after fusion, or the fused graph under two runs (runs.compare). */
export type GraphCompare = 'none' | 'fusion' | 'runs';

export interface GraphViewState {
  fused: boolean;
  /** Namespaces (module paths) drawn as collapsible groups; off: every node on its own. */
  grouped: boolean;
  compare: GraphCompare;
  colorBy: ColorBy;
  search: string;
  selected: string | null;
  overlays: Partial<Record<Metric | AnalysisMetric, Overlay>>;
}

export interface GraphSlice {
  graphView: GraphViewState;
  setGraphFused(fused: boolean): void;
  setGraphGrouped(grouped: boolean): void;
  setGraphCompare(compare: GraphCompare): void;
  setColorBy(c: ColorBy): void;
  setGraphSearch(q: string): void;
  selectNode(id: string | null): void;
  setOverlay(metric: Metric | AnalysisMetric, values: Overlay): void;
  clearOverlays(): void;
}

export const INITIAL_GRAPH_VIEW: GraphViewState = { fused: true, grouped: true, compare: 'none', colorBy: 'dtype', search: '', selected: null, overlays: {} };

export const createGraphSlice: SliceCreator<GraphSlice> = (set) => {
  const upd = (f: (g: GraphViewState) => Partial<GraphViewState>) => set((s) => ({ graphView: { ...s.graphView, ...f(s.graphView) } }));
  return {
    graphView: INITIAL_GRAPH_VIEW,
    setGraphFused: (fused) => upd(() => ({ fused })),
    setGraphGrouped: (grouped) => upd(() => ({ grouped })),
    setGraphCompare: (compare) => upd(() => ({ compare })),
    setColorBy: (colorBy) => upd(() => ({ colorBy })),
    setGraphSearch: (search) => upd(() => ({ search })),
    selectNode: (selected) => upd(() => ({ selected })),
    setOverlay: (metric, values) => upd((g) => ({ overlays: { ...g.overlays, [metric]: { ...values } } })),
    clearOverlays: () => upd(() => ({ overlays: {} })),
  };
};
