/**
 * Box colours for the canvas: a node by its dtype (from the quantization plan) or by a metric's fixed band
 * (metric-bands.ts, not the model's min-to-max, so a healthy model's worst layer is not red); a collapsed group by
 * its nodes (box-colors.ts). The legend's counts come with them.
 */
import { useCallback, useMemo } from 'react';
import { boxColors, NO_VALUE } from '../../graph-view/box-colors.ts';
import type { Dtype, ViewGraph } from '../../graph-view/graph-model.ts';
import { BAND_COLORS, bandOf } from '../../graph-view/metric-bands.ts';
import type { NsTree } from '../../graph-view/namespaces.ts';
import type { ColorBy, Overlay } from '../../store/graph-slice.ts';

export const DT_VAR: Record<Dtype, string> = { float: 'var(--dt-float)', int8: 'var(--dt-int8)', int16: 'var(--dt-int16)', int32: 'var(--dt-int32)' };
const WORST_FIRST = [BAND_COLORS.bad, BAND_COLORS.poor, BAND_COLORS.fair, BAND_COLORS.healthy];

export function useNodeColor(graph: ViewGraph, colorBy: ColorBy, overlay: Overlay | null): (id: string) => string {
  const byId = useMemo(() => new Map(graph.nodes.map((n) => [n.id, n])), [graph]);
  return useCallback((nid: string) => {
    if (colorBy === 'dtype') return DT_VAR[byId.get(nid)?.dtype ?? 'float'];
    const v = overlay?.[nid];
    if (v === undefined || !Number.isFinite(v)) return NO_VALUE;
    return BAND_COLORS[bandOf(colorBy, v)];
  }, [colorBy, overlay, byId]);
}

export function useBoxColor(tree: NsTree, nodeColor: (id: string) => string, metric: boolean): (id: string) => string {
  return useMemo(() => boxColors(tree, nodeColor, metric ? WORST_FIRST : null), [tree, nodeColor, metric]);
}
