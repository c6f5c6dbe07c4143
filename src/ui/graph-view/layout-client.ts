/**
 * Layout on request: inline for small graphs (under WORKER_THRESHOLD nodes, a few milliseconds), in a
 * worker for large ones so the page stays responsive. Only the latest request's answer is used.
 */
import { layoutGraph, type Layout, type LayoutInput } from './layout.ts';

export const WORKER_THRESHOLD = 300;
let worker: Worker | null = null;
let seq = 0;
const pending = new Map<number, { resolve: (l: Layout) => void; reject: (e: Error) => void }>();

function getWorker(): Worker {
  if (worker) return worker;
  worker = new Worker(new URL('./layout.worker.ts', import.meta.url), { type: 'module', name: 'layout' });
  worker.onmessage = (ev: MessageEvent<{ id: number; layout?: Layout; error?: string }>) => {
    const p = pending.get(ev.data.id);
    pending.delete(ev.data.id);
    if (ev.data.layout) p?.resolve(ev.data.layout);
    else p?.reject(new Error(ev.data.error ?? 'layout failed'));
  };
  return worker;
}

export function requestLayout(input: LayoutInput): Promise<Layout> {
  if (input.nodes.length < WORKER_THRESHOLD || typeof Worker === 'undefined') return Promise.resolve(layoutGraph(input));
  const id = ++seq;
  return new Promise((resolve, reject) => {
    pending.set(id, { resolve, reject });
    getWorker().postMessage({ id, input });
  });
}
