/**
 * Graph layout with dagre (layered, top to bottom) up to DAGRE_MAX_NODES nodes, the iterative
 * layered-layout.ts above (dagre's recursive DFS overflows the stack on deep graphs). Pure: runs in
 * the layout worker for large graphs and inline for small ones. Node boxes have a fixed height and a
 * width from the label length.
 */
import dagre from '@dagrejs/dagre';
import { layeredLayout } from './layered-layout.ts';

/**
 * `width`: the node's box width when the caller measured its labels (else from the label's length); `parent`: the
 * expanded group (namespaces.ts) it is drawn inside. `groups`: those groups, each inside its `parent`.
 */
export interface LayoutInput {
  nodes: { id: string; label: string; width?: number; parent?: string | null }[];
  edges: { from: string; to: string }[];
  groups?: { id: string; parent: string | null }[];
}
export interface LayoutNode { id: string; x: number; y: number; w: number; h: number }
export interface LayoutEdge { from: string; to: string; points: [number, number][] }
/** A group's frame (centre, size), drawn behind its nodes with its name in the top band. */
export type LayoutGroup = LayoutNode;
export interface Layout { nodes: LayoutNode[]; edges: LayoutEdge[]; groups: LayoutGroup[]; width: number; height: number }

/** Two lines: the op large, the node's name small under it (render.ts). */
export const NODE_H = 38;
export const nodeWidth = (label: string) => Math.max(72, Math.min(260, 14 + label.length * 6.6));
export const NODE_MAX_W = 260;
/** Box width for an op label (11px bold, ~7 px a character) over a name (9px, ~5.5 px a character). */
export const twoLineWidth = (op: string, name: string) => Math.max(72, Math.min(NODE_MAX_W, 16 + Math.max(op.length * 7, name.length * 5.5)));

export const DAGRE_MAX_NODES = 600;

export function layoutGraph(input: LayoutInput): Layout {
  const widthOf = new Map(input.nodes.map((n) => [n.id, n.width ?? nodeWidth(n.label)]));
  const w = (n: { id: string }) => widthOf.get(n.id) ?? 72;
  if (input.nodes.length > DAGRE_MAX_NODES) return withFrames(layeredLayout(input, w, NODE_H), input);
  try {
    return dagreLayout(input, w);
  } catch (e) {
    if (e instanceof RangeError) return withFrames(layeredLayout(input, w, NODE_H), input);
    throw e;
  }
}

/** Frames for the fast layout, which places no groups: each group's box around its nodes (inner groups first). */
function withFrames(l: Omit<Layout, 'groups'>, input: LayoutInput): Layout {
  const groups = input.groups ?? [];
  if (!groups.length) return { ...l, groups: [] };
  const box = new Map<string, [number, number, number, number]>();
  const grow = (id: string, x0: number, y0: number, x1: number, y1: number) => {
    const b = box.get(id);
    box.set(id, b ? [Math.min(b[0], x0), Math.min(b[1], y0), Math.max(b[2], x1), Math.max(b[3], y1)] : [x0, y0, x1, y1]);
  };
  const parent = new Map(groups.map((c) => [c.id, c.parent]));
  const pos = new Map(l.nodes.map((n) => [n.id, n]));
  for (const n of input.nodes) {
    const p = pos.get(n.id)!;
    for (let g = n.parent ?? null, pad = 8; g; g = parent.get(g) ?? null, pad += 8) grow(g, p.x - p.w / 2 - pad, p.y - p.h / 2 - pad - 14, p.x + p.w / 2 + pad, p.y + p.h / 2 + pad);
  }
  const frames = groups.flatMap((c) => {
    const b = box.get(c.id);
    return b ? [{ id: c.id, x: (b[0] + b[2]) / 2, y: (b[1] + b[3]) / 2, w: b[2] - b[0], h: b[3] - b[1] }] : [];
  });
  return { ...l, groups: frames };
}

function dagreLayout(input: LayoutInput, width: (n: { id: string }) => number): Layout {
  const groups = input.groups ?? [];
  const g = new dagre.graphlib.Graph({ multigraph: false, compound: groups.length > 0 });
  // With groups, a wider rank gap: dagre puts a frame's top border half a gap above its first node, room for its name.
  g.setGraph({ rankdir: 'TB', nodesep: 18, ranksep: groups.length ? 40 : 30, marginx: 10, marginy: 10 });
  g.setDefaultEdgeLabel(() => ({}));
  for (const c of groups) g.setNode(c.id, {});
  for (const c of groups) if (c.parent) g.setParent(c.id, c.parent);
  for (const n of input.nodes) {
    g.setNode(n.id, { width: width(n), height: NODE_H });
    if (n.parent) g.setParent(n.id, n.parent);
  }
  for (const e of input.edges) g.setEdge(e.from, e.to);
  dagre.layout(g);
  const frames = groups.map((c) => {
    const v = g.node(c.id);
    return { id: c.id, x: v.x, y: v.y, w: v.width, h: v.height };
  });
  const nodes = input.nodes.map((n) => {
    const v = g.node(n.id);
    return { id: n.id, x: v.x, y: v.y, w: v.width, h: v.height };
  });
  const edges = input.edges.map((e) => ({ from: e.from, to: e.to, points: ((g.edge(e.from, e.to)?.points ?? []) as { x: number; y: number }[]).map((p) => [p.x, p.y] as [number, number]) }));
  const gl = g.graph();
  return { nodes, edges, groups: frames, width: gl.width ?? 0, height: gl.height ?? 0 };
}
