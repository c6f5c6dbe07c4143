/**
 * Keeps the results on the page tied to the model and data on screen: whenever the model (zoo pick, import) or
 * the data (drop, built-in, preprocessing) changes and no job runs, the page switches scope (scope/switch.ts) and
 * the training worker gets that scope's checkpoints (or none, and starts clean). A change while a job runs waits
 * for the job to end, so the job's results land in the scope it was started in. No React here.
 */
import type { TrainingClient } from '../../train/client.ts';
import { errorText } from '../../train/protocol.ts';
import { isLive } from '../store/run-reducer.ts';
import type { StudioState, StudioStore } from '../store/studio-store.ts';
import { currentScope, scopeKey, toResultScope, type Scope } from './identity.ts';
import { switchScope } from './switch.ts';

/** Whether a job is in flight anywhere (the switch waits for it). */
export function jobLive(s: StudioState): boolean {
  return isLive(s.run.status) || s.quant.job.status !== 'idle' || s.deploy.job.status !== 'idle';
}

/** True when the results on the page are those of what it shows (a stage may start). */
export function scopeInSync(s: StudioState): boolean {
  const cur = currentScope(s);
  return !!cur && !!s.scope && scopeKey(cur) === scopeKey(s.scope);
}

export function createScopeController(store: StudioStore, client: Pick<TrainingClient, 'restore' | 'job'>): { check(): void; dispose(): void } {
  const st = () => store.getState();
  const check = () => {
    const s = st();
    if (jobLive(s) || client.job !== null) return;
    const next: Scope | null = currentScope(s);
    if (!next) return;
    const before = s.scope;
    const hadFloat = !!s.checkpoints.float;
    const upd = switchScope(s, next);
    if (Object.keys(upd).length === 0) return;
    store.setState(upd);
    if (before && scopeKey(before) === scopeKey(next)) return;
    const c = st().checkpoints;
    // A switch gives the worker the new scope's checkpoints (none: it starts clean); adopting a first scope
    // stamps checkpoints restored from a project saved before they carried one.
    if (!c.float && (!before || !hadFloat)) return; // the worker holds nothing of either scope
    try {
      client.restore(c.float ?? null, c.calib ?? null, c.qat ?? null, toResultScope(next));
    } catch (e) {
      st().projectError(`could not give the worker the results of ${next.modelLabel}: ${errorText(e)}`);
    }
    if (before) st().touchProject();
  };
  const unsubscribe = store.subscribe(check);
  return { check, dispose: unsubscribe };
}
