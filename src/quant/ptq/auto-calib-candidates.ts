/**
 * The candidates automatic calibration tries at each site: an observer, optionally with its one parameter after a
 * colon (`percentile:99.9`, `clip_std:4`), as the guide's search over observers and their parameters. One source for
 * the CLI, the page and the worker.
 */
import { createObserver, isObserverName, type Observer, type ObserverConfig, type ObserverName } from '../observers/index.ts';

/** Observers a site may choose from (per tensor, data-driven). */
export const AUTO_CALIB_OBSERVERS = ['minmax', 'percentile', 'mse', 'kl', 'clip_std', 'histogram', 'mix'] as const;
export const AUTO_CALIB_DEFAULT: ObserverName[] = ['minmax', 'percentile', 'mse', 'kl'];

/** The observers whose parameter a candidate may set, with its config key and range. */
const PARAMS: Partial<Record<ObserverName, { key: 'percentile' | 'stdScale'; ok: (v: number) => boolean; range: string }>> = {
  percentile: { key: 'percentile', ok: (v) => v > 0 && v <= 100, range: 'a percentage in (0, 100]' },
  clip_std: { key: 'stdScale', ok: (v) => v > 0 && v <= 100, range: 'a number of standard deviations in (0, 100]' },
};

export interface CandidateSpec {
  /** As written (the report's name for it). */
  label: string;
  name: ObserverName;
  config: Pick<ObserverConfig, 'percentile' | 'stdScale'>;
}

export function parseCandidate(label: string): CandidateSpec {
  const [name, param, ...extra] = label.split(':');
  if (!isObserverName(name) || !(AUTO_CALIB_OBSERVERS as readonly string[]).includes(name)) {
    throw new Error(`automatic calibration: "${label}" is not a candidate observer (one of ${AUTO_CALIB_OBSERVERS.join(', ')})`);
  }
  if (param === undefined) return { label, name, config: {} };
  const p = PARAMS[name];
  if (!p) throw new Error(`automatic calibration: "${label}": ${name} takes no parameter (only ${Object.keys(PARAMS).join(' and ')} do)`);
  const v = Number(param);
  if (extra.length || param.trim() === '' || !Number.isFinite(v) || !p.ok(v)) {
    throw new Error(`automatic calibration: "${label}": the parameter of ${name} must be ${p.range}`);
  }
  return { label, name, config: { [p.key]: v } };
}

/** Checks the candidates (at least one, each known); duplicates dropped, order kept. */
export function checkCandidates(labels: readonly string[]): string[] {
  if (!labels.length) throw new Error('automatic calibration needs at least one candidate observer');
  for (const l of labels) parseCandidate(l);
  return [...new Set(labels)];
}

/**
 * The candidates with every observer named with a parameter also present at its defaults (after the last
 * candidate of that observer), so the search always includes what a calibration with that observer alone gives.
 */
export function withDefaults(labels: readonly string[]): string[] {
  const out: string[] = [];
  labels.forEach((l, i) => {
    out.push(l);
    const { name } = parseCandidate(l);
    const last = !labels.slice(i + 1).some((m) => parseCandidate(m).name === name);
    if (last && !labels.includes(name)) out.push(name);
  });
  return out;
}

export function candidateObserver(label: string, cfg: ObserverConfig): Observer {
  const c = parseCandidate(label);
  return createObserver(c.name, { ...cfg, ...c.config });
}
