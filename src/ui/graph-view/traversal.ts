/** Keyboard traversal of a laid-out graph: which box an arrow key leads to. Pure. */
import type { Layout } from './layout.ts';

/** The node an arrow key leads to: down / up along the first outgoing / incoming edge, left / right to the neighbour in the row. */
export function neighbourOf(layout: Pick<Layout, 'nodes' | 'edges'>, id: string, key: string): string | null {
  const n = layout.nodes.find((x) => x.id === id);
  if (!n) return null;
  if (key === 'ArrowDown' || key === 'ArrowUp') {
    const next = layout.edges.filter((e) => (key === 'ArrowDown' ? e.from === id : e.to === id)).map((e) => (key === 'ArrowDown' ? e.to : e.from));
    const nodes = next.map((x) => layout.nodes.find((m) => m.id === x)!).filter(Boolean).sort((a, b) => Math.abs(a.x - n.x) - Math.abs(b.x - n.x));
    return nodes[0]?.id ?? null;
  }
  if (key === 'ArrowLeft' || key === 'ArrowRight') {
    const row = layout.nodes.filter((m) => Math.abs(m.y - n.y) < 1 && m.id !== id && (key === 'ArrowRight' ? m.x > n.x : m.x < n.x));
    row.sort((a, b) => Math.abs(a.x - n.x) - Math.abs(b.x - n.x));
    return row[0]?.id ?? null;
  }
  return null;
}
