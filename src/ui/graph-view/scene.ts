/**
 * What the canvas draws for a view graph and the groups that are open: the boxes (nodes, and collapsed groups
 * with their size), the frames of the open groups, the edges between boxes with the tensor shape each carries, and
 * the layout request with every box's measured width. Pure (the measuring falls back to an estimate without a canvas).
 */
import type { ViewGraph, ViewNode } from './graph-model.ts';
import { boxWidth } from './labels.ts';
import type { LayoutInput } from './layout.ts';
import { visibleGraph, type NsGroup, type NsTree } from './namespaces.ts';

export interface SceneBox {
  id: string;
  kind: 'node' | 'group';
  /** Large line: the op (a fused node's parts), or the group's name. */
  op: string;
  /** Small line: the node's name, or what the group holds. */
  name: string;
  node: ViewNode | null;
  group: NsGroup | null;
}

export interface Scene {
  boxes: Map<string, SceneBox>;
  edges: { from: string; to: string; via: string }[];
  repOf: Map<string, string>;
  input: LayoutInput;
}

/** What a collapsed group holds, e.g. "3 conv2d, 1 add" (or "17 nodes" when it mixes more than two ops). */
export function contentsOf(group: NsGroup, nodes: ReadonlyMap<string, ViewNode>): string {
  const count = new Map<string, number>();
  for (const l of group.leaves) {
    const op = nodes.get(l)?.op ?? '?';
    count.set(op, (count.get(op) ?? 0) + 1);
  }
  if (count.size > 2) return `${group.leaves.length} nodes`;
  return [...count].map(([op, n]) => `${n} ${op}`).join(', ');
}

export function buildScene(view: ViewGraph, tree: NsTree, expanded: ReadonlySet<string>): Scene {
  const nodes = new Map(view.nodes.map((n) => [n.id, n]));
  const vis = visibleGraph(view.nodes, tree, expanded);
  const boxes = new Map<string, SceneBox>();
  for (const it of vis.items) {
    if (it.kind === 'node') {
      const n = nodes.get(it.id)!;
      boxes.set(it.id, { id: it.id, kind: 'node', op: n.label, name: n.id, node: n, group: null });
    } else {
      const g = tree.groups.get(it.id)!;
      boxes.set(it.id, { id: it.id, kind: 'group', op: g.label, name: contentsOf(g, nodes), node: null, group: g });
    }
  }
  const input: LayoutInput = {
    nodes: vis.items.map((it) => {
      const b = boxes.get(it.id)!;
      // A group box keeps 14 px for its expand mark.
      return { id: it.id, label: `${b.op} ${b.name}`, width: boxWidth(b.op, b.name) + (it.kind === 'group' ? 14 : 0), parent: it.parent };
    }),
    edges: vis.edges.map((e) => ({ from: e.from, to: e.to })),
    groups: vis.frames,
  };
  return { boxes, edges: vis.edges, repOf: vis.repOf, input };
}
