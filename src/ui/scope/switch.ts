/**
 * Switching the page to another model or data set. Every result (the float run and its accuracy, the checkpoints,
 * calibration with its histograms and scales, QAT, the deployment check and its graph overlays, the per-node
 * overrides) belongs to one scope; on a switch the current ones go on the shelf under their scope and the new
 * scope's come back from it, or the page starts clean. The notice says which. Pure: returns the store update.
 */
import type { NodeOverride } from '../../quant/qconfig.ts';
import type { DeployState } from '../store/deploy-slice.ts';
import { overlaysOf } from '../store/deploy-slice.ts';
import type { Checkpoints } from '../store/project-slice.ts';
import type { QuantState } from '../store/quant-slice.ts';
import { IDLE_JOB } from '../store/quant-slice.ts';
import { INITIAL_RUN, type RunState } from '../store/run-reducer.ts';
import type { ScopeNotice } from '../store/scope-slice.ts';
import type { StudioState } from '../store/studio-store.ts';
import { scopeKey, type Scope } from './identity.ts';
import { IDLE_DEPLOY_JOB } from '../store/deploy-slice.ts';
import { formatFixed } from '../format.ts';
import { INITIAL_RUNS, type RunsState } from '../store/runs-slice.ts';

/** One scope's results, as kept on the shelf (and in the saved project). */
export interface ScopedResults {
  scope: Scope;
  run: RunState;
  checkpoints: Checkpoints;
  quant: Pick<QuantState, 'float' | 'calib' | 'qat' | 'liveLosses' | 'liveEpochs'>;
  overrides: NodeOverride[];
  deploy: Pick<DeployState, 'artifacts' | 'result'> & { samples?: DeployState['samples'] };
  /** The run history (absent in projects saved before it was kept). */
  runs?: RunsState;
}

export function hasResults(s: StudioState): boolean {
  return s.run.outcome !== null || !!s.checkpoints.float || !!s.quant.float || !!s.quant.calib || !!s.quant.qat || !!s.deploy.result || s.runs.list.length > 0;
}

/** The current results, as they would go on the shelf. */
export function resultsOf(s: StudioState, scope: Scope): ScopedResults {
  const q = s.quant;
  return {
    scope, run: s.run, checkpoints: s.checkpoints,
    quant: { float: q.float, calib: q.calib, qat: q.qat, liveLosses: q.liveLosses, liveEpochs: q.liveEpochs },
    overrides: q.settings.overrides,
    deploy: { artifacts: s.deploy.artifacts, result: s.deploy.result, samples: s.deploy.samples },
    runs: s.runs,
  };
}

const EMPTY = (scope: Scope): ScopedResults => ({
  scope, run: INITIAL_RUN, checkpoints: {}, quant: { float: null, calib: null, qat: null, liveLosses: [], liveEpochs: [] },
  overrides: [], deploy: { artifacts: null, result: null }, runs: INITIAL_RUNS,
});

/** The store fields that show `r` (jobs idle, overlays from its deployment check). */
export function showResults(s: StudioState, r: ScopedResults): Partial<StudioState> {
  const o = r.deploy.result ? overlaysOf(r.deploy.result.layers) : {};
  return {
    run: r.run,
    checkpoints: r.checkpoints,
    quant: { ...s.quant, ...r.quant, job: IDLE_JOB, settings: { ...s.quant.settings, overrides: r.overrides } },
    deploy: { ...s.deploy, ...r.deploy, samples: r.deploy.samples ?? null, job: r.deploy.result ? { ...IDLE_DEPLOY_JOB, outcome: 'done', images: r.deploy.result.images, totalImages: r.deploy.result.images } : IDLE_DEPLOY_JOB },
    graphView: { ...s.graphView, selected: null, overlays: o },
    runs: r.runs ?? INITIAL_RUNS,
  };
}

const pct = (v: number) => `${formatFixed(v, 2)} %`;

/** A one-line account of a scope's results, for the notice. */
export function describeResults(r: ScopedResults): string {
  const parts: string[] = [];
  if (r.quant.float) parts.push(`float ${pct(r.quant.float.acc1)}`);
  else if (r.checkpoints.float) parts.push('a float model');
  if (r.quant.calib) parts.push(`calibration ${pct(r.quant.calib.acc1)}`);
  if (r.quant.qat) parts.push(`QAT ${pct(r.quant.qat.acc1)}`);
  if (r.deploy.result) parts.push(`a deployment check (agreement ${pct(r.deploy.result.agreement_top1)})`);
  const n = r.runs?.list.length ?? 0;
  if (n) parts.push(`${n} kept run${n === 1 ? '' : 's'}`);
  return parts.length ? parts.join(', ') : 'no results';
}

/**
 * The store update that makes `next` the page's scope. From no scope (a fresh page, or a project saved before
 * results carried one), the results on screen are taken to be `next`'s: they were made on what is shown.
 */
export function switchScope(s: StudioState, next: Scope): Partial<StudioState> {
  const cur = s.scope;
  if (!cur) return { scope: next };
  if (scopeKey(cur) === scopeKey(next)) return cur.modelLabel === next.modelLabel && cur.dataLabel === next.dataLabel ? {} : { scope: next };
  const shelf = { ...s.shelf };
  const had = hasResults(s);
  if (had) shelf[scopeKey(cur)] = resultsOf(s, cur);
  const found = shelf[scopeKey(next)];
  delete shelf[scopeKey(next)];
  const changed: ScopeNotice['changed'] = cur.model !== next.model && cur.data !== next.data ? 'both' : cur.model !== next.model ? 'model' : 'data';
  const what = `${next.modelLabel} on ${next.dataLabel}`;
  const kept = had ? ` The results of ${cur.modelLabel} on ${cur.dataLabel} are kept and come back when you switch back.` : '';
  const notice: ScopeNotice = found
    ? { kind: 'reopened', changed, text: `Now ${what}: reopened its own results (${describeResults(found)}).${kept}` }
    : { kind: 'clean', changed, text: `Now ${what}: no results for this ${changed === 'data' ? 'data' : changed === 'model' ? 'model' : 'model and data'} yet, so every stage starts clean.${kept}` };
  const r = found ? { ...found, scope: next } : EMPTY(next);
  return { ...showResults(s, r), scope: next, shelf, scopeNotice: notice };
}
