/**
 * Graph layout with dagre (layered, top to bottom) up to DAGRE_MAX_NODES nodes, the iterative
 * layered-layout.ts above (dagre's recursive DFS overflows the stack on deep graphs). Pure: runs in
 * the layout worker for large graphs and inline for small ones. Node boxes have a fixed height and a
 * width from the label length.
 */
import dagre from '@dagrejs/dagre';
import { layeredLayout } from './layered-layout.ts';

/** `width`: the node's box width when the caller measured its labels (else from the label's length). */
export interface LayoutInput { nodes: { id: string; label: string; width?: number }[]; edges: { from: string; to: string }[] }
export interface LayoutNode { id: string; x: number; y: number; w: number; h: number }
export interface LayoutEdge { from: string; to: string; points: [number, number][] }
export interface Layout { nodes: LayoutNode[]; edges: LayoutEdge[]; width: number; height: number }

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
  if (input.nodes.length > DAGRE_MAX_NODES) return layeredLayout(input, w, NODE_H);
  try {
    return dagreLayout(input, w);
  } catch (e) {
    if (e instanceof RangeError) return layeredLayout(input, w, NODE_H);
    throw e;
  }
}

function dagreLayout(input: LayoutInput, width: (n: { id: string }) => number): Layout {
  const g = new dagre.graphlib.Graph({ multigraph: false });
  g.setGraph({ rankdir: 'TB', nodesep: 18, ranksep: 30, marginx: 10, marginy: 10 });
  g.setDefaultEdgeLabel(() => ({}));
  for (const n of input.nodes) g.setNode(n.id, { width: width(n), height: NODE_H });
  for (const e of input.edges) g.setEdge(e.from, e.to);
  dagre.layout(g);
  const nodes = input.nodes.map((n) => {
    const v = g.node(n.id);
    return { id: n.id, x: v.x, y: v.y, w: v.width, h: v.height };
  });
  const edges = input.edges.map((e) => ({ from: e.from, to: e.to, points: ((g.edge(e.from, e.to)?.points ?? []) as { x: number; y: number }[]).map((p) => [p.x, p.y] as [number, number]) }));
  const gl = g.graph();
  return { nodes, edges, width: gl.width ?? 0, height: gl.height ?? 0 };
}
