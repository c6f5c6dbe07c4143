/**
 * The worker side of the bridge's crash detection. An exception thrown in a worker reaches the page as an `error`
 * event, but a rejected promise nobody awaited only fires `unhandledrejection` inside the worker: the page would
 * wait for an answer forever. Every worker rethrows such a rejection as an uncaught error, so the page's worker slot
 * sees a crash, rejects the call in flight with the reason and starts a fresh worker for the next call.
 */
import { describeError } from './worker-slot.ts';

/** The error an unhandled rejection is rethrown as (its reason, or an Error naming it). */
export function rejectionError(reason: unknown): Error {
  return reason instanceof Error ? reason : new Error(`unhandled rejection: ${describeError(reason)}`);
}

/** Installs the rethrow on a worker global (call once, where the worker binds its onmessage). */
export function reportUnhandledRejections(scope: Pick<DedicatedWorkerGlobalScope, 'addEventListener'>): void {
  scope.addEventListener('unhandledrejection', (ev: PromiseRejectionEvent) => {
    ev.preventDefault();
    throw rejectionError(ev.reason);
  });
}
