/**
 * The namespace groups of a view graph and which are open: opens as initialExpanded (a large model as its blocks),
 * toggled by the user, all opened or closed at once, and opened around a node selected elsewhere (deploy table,
 * search, the other side of a comparison) so that it is on screen.
 */
import { useCallback, useEffect, useMemo, useState } from 'react';
import type { ViewGraph } from '../../graph-view/graph-model.ts';
import { buildNamespaceTree, flatTree, initialExpanded, isGroupId, revealed, type NsTree } from '../../graph-view/namespaces.ts';

export interface Groups {
  tree: NsTree;
  expanded: ReadonlySet<string>;
  /** The group toggled last (the view goes there). */
  toggled: string | null;
  toggle(id: string): void;
  expandAll(): void;
  collapseAll(): void;
}

export function useGroups(graph: ViewGraph, grouped: boolean, selected: string | null, onCollapseSelected?: () => void): Groups {
  const tree = useMemo(() => (grouped ? buildNamespaceTree(graph.nodes) : flatTree(graph.nodes)), [graph, grouped]);
  const [state, setState] = useState<{ tree: NsTree; expanded: ReadonlySet<string>; toggled: string | null }>(() => ({ tree, expanded: initialExpanded(tree), toggled: null }));
  // Another graph (a model switch, before / after fusion) opens as its blocks again.
  const cur = state.tree === tree ? state : { tree, expanded: initialExpanded(tree), toggled: null };
  if (cur !== state) setState(cur);

  useEffect(() => {
    if (!selected || isGroupId(selected) || !tree.parentOf.has(selected)) return;
    setState((s) => {
      if (s.tree !== tree) return s;
      const e = revealed(tree, s.expanded, selected);
      return e === s.expanded ? s : { tree, expanded: e, toggled: null };
    });
  }, [selected, tree]);

  const open = cur.expanded;
  const toggle = useCallback((id: string) => {
    const e = new Set(open);
    if (e.has(id)) {
      e.delete(id);
      // The selected node would be hidden in the closed group: the selection goes.
      if (selected && tree.groups.get(id)?.leaves.includes(selected)) onCollapseSelected?.();
    } else e.add(id);
    setState({ tree, expanded: e, toggled: id });
  }, [tree, open, selected, onCollapseSelected]);
  const expandAll = useCallback(() => setState({ tree, expanded: new Set(tree.groups.keys()), toggled: null }), [tree]);
  const collapseAll = useCallback(() => setState({ tree, expanded: new Set(), toggled: null }), [tree]);
  return { tree, expanded: cur.expanded, toggled: cur.toggled, toggle, expandAll, collapseAll };
}
