/** A namespace group reached with the arrow keys: its module path, what it holds, and a button to open it. */
import type { ViewNode } from '../../graph-view/graph-model.ts';
import type { NsGroup } from '../../graph-view/namespaces.ts';

export function GroupDetails({ group, nodes, onOpen }: { group: NsGroup; nodes: ReadonlyMap<string, ViewNode>; onOpen: () => void }) {
  const ops = new Map<string, number>();
  for (const l of group.leaves) ops.set(nodes.get(l)?.op ?? '?', (ops.get(nodes.get(l)?.op ?? '?') ?? 0) + 1);
  return (
    <div className="node-details" data-testid="group-details" data-group={group.path} aria-live="polite">
      <h3><code>{group.path}</code></h3>
      <p>{group.leaves.length} nodes: {[...ops].map(([op, n]) => `${n} ${op}`).join(', ')}.</p>
      <button type="button" data-testid="group-open" onClick={onOpen}>Open the group (Enter)</button>
    </div>
  );
}
