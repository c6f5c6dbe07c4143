/**
 * Namespaces (module paths) as collapsible groups, the way Model Explorer opens a model as its layers: a tree of
 * groups from each node's namespace ('features/features.3/conv', or the dotted module path of its name when it has
 * none), chains of single-child groups merged, a group of one node shown as that node; which groups open expanded
 * (level by level while the view stays small); and the graph as drawn with the collapsed groups as single boxes
 * and their edges merged. Pure.
 */
export const GROUP_PREFIX = 'ns:';
export const isGroupId = (id: string): boolean => id.startsWith(GROUP_PREFIX);
/** At most this many boxes when the viewer opens: a 155-node MobileNetV2 opens as its ~20 blocks. */
export const OPEN_MAX_ITEMS = 40;

export interface NsGroup {
  id: string;
  /** The module path, e.g. 'features/features.3/conv'. */
  path: string;
  /** The last segment ('conv'; of a merged chain, its first), what the box shows. */
  label: string;
  parent: string | null;
  /** Child groups and nodes, in graph order. */
  children: string[];
  /** Every node below it, in graph order. */
  leaves: string[];
  depth: number;
}

export interface NsTree {
  groups: Map<string, NsGroup>;
  /** The group each node or group sits in (null: the top level). */
  parentOf: Map<string, string | null>;
  /** The top level, in graph order. */
  roots: string[];
}

/** A node's module path: its namespace, or the dotted path of its name ('features.3.conv.0' → features, features.3, features.3.conv). */
export function pathOf(n: { id: string; namespace: string }): string[] {
  if (n.namespace) return n.namespace.split('/').filter(Boolean);
  const parts = n.id.split('.');
  if (parts.length < 2) return [];
  return parts.slice(0, -1).map((_, i) => parts.slice(0, i + 1).join('.'));
}

export function buildNamespaceTree(nodes: readonly { id: string; namespace: string }[]): NsTree {
  // A trie of paths; children kept in first-seen (graph) order.
  interface Raw { path: string; label: string; kids: (Raw | string)[]; sub: Map<string, Raw> }
  const root: Raw = { path: '', label: '', kids: [], sub: new Map() };
  for (const n of nodes) {
    let at = root;
    for (const seg of pathOf(n)) {
      let next = at.sub.get(seg);
      if (!next) {
        next = { path: at.path ? `${at.path}/${seg}` : seg, label: seg, kids: [], sub: new Map() };
        at.sub.set(seg, next);
        at.kids.push(next);
      }
      at = next;
    }
    at.kids.push(n.id);
  }
  const groups = new Map<string, NsGroup>();
  const parentOf = new Map<string, string | null>();
  // Returns the id that stands for `r` in its parent: a node id (a group of one node), or a group id.
  const build = (r: Raw, parent: string | null, depth: number): string => {
    // A chain of single-child groups is one group: the deepest path is its id, the outermost segment its label.
    const top = r.label;
    while (r.kids.length === 1 && typeof r.kids[0] !== 'string') r = r.kids[0];
    if (r.kids.length === 1) {
      parentOf.set(r.kids[0] as string, parent);
      return r.kids[0] as string;
    }
    const id = GROUP_PREFIX + r.path;
    const g: NsGroup = { id, path: r.path, label: top, parent, children: [], leaves: [], depth };
    groups.set(id, g);
    parentOf.set(id, parent);
    for (const k of r.kids) {
      if (typeof k === 'string') {
        parentOf.set(k, id);
        g.children.push(k);
        g.leaves.push(k);
      } else {
        const c = build(k, id, depth + 1);
        g.children.push(c);
        g.leaves.push(...(isGroupId(c) ? groups.get(c)!.leaves : [c]));
      }
    }
    return id;
  };
  const roots: string[] = [];
  for (const k of root.kids) {
    if (typeof k === 'string') {
      parentOf.set(k, null);
      roots.push(k);
    } else roots.push(build(k, null, 0));
  }
  return { groups, parentOf, roots };
}

/** The groups open at first: whole levels of the tree, top first, while the boxes in view stay at most `max`. */
export function initialExpanded(tree: NsTree, max = OPEN_MAX_ITEMS): Set<string> {
  const open = new Set<string>();
  let level = tree.roots.filter(isGroupId);
  let count = tree.roots.length;
  while (level.length) {
    const more = level.reduce((s, g) => s + tree.groups.get(g)!.children.length - 1, 0);
    if (count + more > max) break;
    count += more;
    for (const g of level) open.add(g);
    level = level.flatMap((g) => tree.groups.get(g)!.children.filter(isGroupId));
  }
  return open;
}

/** The groups around a node, outermost first. */
export function ancestorsOf(tree: NsTree, id: string): string[] {
  const out: string[] = [];
  for (let p = tree.parentOf.get(id) ?? null; p; p = tree.parentOf.get(p) ?? null) out.unshift(p);
  return out;
}

/** `expanded` with every group around `id` opened (a node selected elsewhere must be visible). */
export function revealed(tree: NsTree, expanded: ReadonlySet<string>, id: string): Set<string> {
  const anc = ancestorsOf(tree, id);
  if (anc.every((a) => expanded.has(a))) return expanded as Set<string>;
  return new Set([...expanded, ...anc]);
}

/** The box that stands for a node: itself, or its outermost collapsed group. */
export function representativeOf(tree: NsTree, expanded: ReadonlySet<string>, id: string): string {
  for (const a of ancestorsOf(tree, id)) if (!expanded.has(a)) return a;
  return id;
}

export interface VisibleItem {
  id: string;
  kind: 'node' | 'group';
  /** The expanded group it is drawn inside (null: top level). */
  parent: string | null;
}
export interface VisibleGraph {
  items: VisibleItem[];
  /** Expanded groups, drawn as frames around their items (outer before inner). */
  frames: { id: string; parent: string | null }[];
  /** Edges between boxes; `via` is the node whose output the edge carries (for its tensor shape). */
  edges: { from: string; to: string; via: string }[];
  /** Node or group id → the box that stands for it. */
  repOf: Map<string, string>;
}

/** The graph as drawn: visible nodes, collapsed groups as boxes, edges between boxes (merged, no loops). */
export function visibleGraph(nodes: readonly { id: string; inputs: readonly string[] }[], tree: NsTree, expanded: ReadonlySet<string>): VisibleGraph {
  const repOf = new Map<string, string>();
  const items: VisibleItem[] = [];
  const frames: VisibleGraph['frames'] = [];
  const walk = (id: string, parent: string | null, rep: string | null) => {
    const g = tree.groups.get(id);
    const me = rep ?? (g && !expanded.has(id) ? id : null);
    repOf.set(id, me ?? id);
    if (!rep) {
      if (!g) items.push({ id, kind: 'node', parent });
      else if (me) items.push({ id, kind: 'group', parent });
      else frames.push({ id, parent });
    }
    if (g) for (const c of g.children) walk(c, me ? parent : id, me);
  };
  for (const r of tree.roots) walk(r, null, null);
  const seen = new Set<string>();
  const edges: VisibleGraph['edges'] = [];
  for (const n of nodes) {
    const to = repOf.get(n.id) ?? n.id;
    for (const i of n.inputs) {
      const from = repOf.get(i) ?? i;
      const key = `${from}\u0000${to}`;
      if (from === to || seen.has(key)) continue;
      seen.add(key);
      edges.push({ from, to, via: i });
    }
  }
  return { items, frames, edges, repOf };
}

/** No groups: every node at the top level (grouping turned off). */
export function flatTree(nodes: readonly { id: string }[]): NsTree {
  return { groups: new Map(), parentOf: new Map(nodes.map((n) => [n.id, null])), roots: nodes.map((n) => n.id) };
}
