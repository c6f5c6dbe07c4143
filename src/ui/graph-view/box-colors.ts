/**
 * The colour of a box: a node's own (dtype or metric band), a collapsed group's from its nodes: theirs when they all
 * share one, else under a metric the worst band among them (a block hides no bad layer), else "mixed". Pure.
 */
import type { NsTree } from './namespaces.ts';

export const MIXED = 'var(--dt-mixed)';
export const NO_VALUE = 'var(--dt-none)';

/** `worstFirst`: the band colours, worst first (metric overlays); null for dtype colours. */
export function boxColors(tree: NsTree, nodeColor: (id: string) => string, worstFirst: readonly string[] | null): (id: string) => string {
  const memo = new Map<string, string>();
  return (id) => {
    const g = tree.groups.get(id);
    if (!g) return nodeColor(id);
    let c = memo.get(id);
    if (c === undefined) {
      const cs = new Set(g.leaves.map(nodeColor));
      if (cs.size === 1) c = [...cs][0];
      else if (worstFirst) c = worstFirst.find((w) => cs.has(w)) ?? NO_VALUE;
      else c = MIXED;
      memo.set(id, c);
    }
    return c;
  };
}
