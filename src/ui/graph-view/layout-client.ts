/**
 * Layout on request: inline for small graphs (under WORKER_THRESHOLD nodes, a few milliseconds), in a
 * worker for large ones so the page stays responsive. The worker sits behind the studio's worker bridge
 * (src/workers/bridge.ts): a crash rejects the request with an error naming the layout worker (the graph view shows
 * it) and the next request gets a fresh worker; an idle worker is shut down.
 */
import { layoutGraph, type Layout, type LayoutInput } from './layout.ts';
import { WorkerBridge, type BridgeProtocol } from '../../workers/bridge.ts';
import type { WorkerLike } from '../../workers/worker-slot.ts';

export const WORKER_THRESHOLD = 300;

type LayoutCalls = { layout: { request: LayoutInput; response: Layout } };

/** layout.worker.ts: {id, input} in, {id, layout} or {id, error} out. */
export const LAYOUT_PROTOCOL: BridgeProtocol<LayoutCalls> = {
  name: 'layout',
  idleMs: 60_000,
  request: (_m, id, input) => ({ message: { id, input } }),
  reply: (d) => {
    const m = d as { id?: unknown; layout?: Layout; error?: unknown } | null;
    if (!m || typeof m.id !== 'number') return null;
    if (m.layout) return { id: m.id, kind: 'result', value: m.layout };
    return { id: m.id, kind: 'error', message: typeof m.error === 'string' ? `layout failed: ${m.error}` : 'layout failed' };
  },
};

let bridge: WorkerBridge<LayoutCalls> | null = null;

function spawnLayoutWorker(): WorkerLike {
  return new Worker(new URL('./layout.worker.ts', import.meta.url), { type: 'module', name: 'layout' }) as unknown as WorkerLike;
}

export function requestLayout(input: LayoutInput, signal?: AbortSignal): Promise<Layout> {
  if (input.nodes.length < WORKER_THRESHOLD || typeof Worker === 'undefined') return Promise.resolve(layoutGraph(input));
  bridge ??= new WorkerBridge<LayoutCalls>(LAYOUT_PROTOCOL, spawnLayoutWorker);
  return bridge.call('layout', input, { signal });
}
