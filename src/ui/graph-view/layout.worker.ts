/** Lays out large graphs off the main thread: {id, input} in, {id, layout} (or {id, error}) out. */
import { layoutGraph, type LayoutInput } from './layout.ts';
import { reportUnhandledRejections } from '../../workers/worker-scope.ts';

const scope = self as unknown as DedicatedWorkerGlobalScope;
reportUnhandledRejections(scope);
scope.onmessage = (ev: MessageEvent<{ id: number; input: LayoutInput }>) => {
  try {
    scope.postMessage({ id: ev.data.id, layout: layoutGraph(ev.data.input) });
  } catch (e) {
    scope.postMessage({ id: ev.data.id, error: (e as Error).message });
  }
};
