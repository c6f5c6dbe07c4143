/**
 * The PTQ options of `calib`:
 *   --adaround [--adaround-steps N] [--adaround-batches N] [--adaround-warm-up X] [--adaround-weight X]
 *              [--adaround-b-range A,B] [--adaround-exclude PREFIX[,PREFIX..]] [--adaround-lr X]
 *   --auto-calib [--auto-calib-observers a,b,c (an observer, or observer:parameter: percentile:99.9, clip_std:4)] [--auto-calib-images N]
 *                [--auto-calib-criterion l2|kl|loss] [--auto-calib-gate Z]
 */
import { resolveAdaRoundConfig, type AdaRoundConfig } from '../quant/ptq/adaround-config.ts';
import { AUTO_CALIB_CRITERIA, AUTO_CALIB_DEFAULT, AUTO_CALIB_DEFAULT_CRITERION, AUTO_CALIB_DEFAULT_GATE, checkCandidates, isAutoCalibCriterion, type AutoCalibCriterion } from '../quant/ptq/auto-calib.ts';
import { UsageError } from './options.ts';

export const PTQ_OPTIONS = {
  adaround: { type: 'boolean' }, 'adaround-steps': { type: 'string' }, 'adaround-batches': { type: 'string' },
  'adaround-warm-up': { type: 'string' }, 'adaround-weight': { type: 'string' }, 'adaround-b-range': { type: 'string' },
  'adaround-exclude': { type: 'string' }, 'adaround-lr': { type: 'string' },
  'auto-calib': { type: 'boolean' }, 'auto-calib-observers': { type: 'string' }, 'auto-calib-images': { type: 'string' }, 'auto-calib-criterion': { type: 'string' },
  'auto-calib-gate': { type: 'string' },
} as const;

export interface PtqOptions {
  adaround: AdaRoundConfig | null;
  autoCalib: { candidates: string[]; images: number | null; criterion: AutoCalibCriterion; gate: number } | null;
}

export function parsePtq(rest: Record<string, string | boolean | undefined>, batchSize: number): PtqOptions {
  const s = (k: string) => rest[k] as string | undefined;
  const numOpt = (k: string) => {
    const v = s(k);
    if (v === undefined) return undefined;
    const x = Number(v);
    if (!Number.isFinite(x)) throw new UsageError(`--${k} must be a number, got "${v}"`);
    return x;
  };
  const adaroundGiven = Object.keys(PTQ_OPTIONS).some((k) => k.startsWith('adaround-') && rest[k] !== undefined);
  if (adaroundGiven && !rest.adaround) throw new UsageError('the --adaround-* options need --adaround');
  let adaround: AdaRoundConfig | null = null;
  if (rest.adaround) {
    const br = s('adaround-b-range')?.split(',').map(Number);
    if (br && (br.length !== 2 || !br.every(Number.isFinite))) throw new UsageError(`--adaround-b-range must be two numbers A,B, got "${s('adaround-b-range')}"`);
    try {
      adaround = resolveAdaRoundConfig({
        numSteps: numOpt('adaround-steps'), numBatches: numOpt('adaround-batches'), warmUp: numOpt('adaround-warm-up'),
        weight: numOpt('adaround-weight'), lr: numOpt('adaround-lr'), batchSize,
        bRange: br as [number, number] | undefined, excludePrefix: s('adaround-exclude')?.split(',').map((p) => p.trim()).filter(Boolean),
      });
    } catch (e) {
      throw new UsageError((e as Error).message);
    }
  }
  if (Object.keys(PTQ_OPTIONS).some((k) => k.startsWith('auto-calib-') && rest[k] !== undefined) && !rest['auto-calib']) {
    throw new UsageError('the --auto-calib-* options need --auto-calib');
  }
  let autoCalib: PtqOptions['autoCalib'] = null;
  if (rest['auto-calib']) {
    let candidates: string[];
    try {
      candidates = checkCandidates(s('auto-calib-observers')?.split(',').map((x) => x.trim()) ?? AUTO_CALIB_DEFAULT);
    } catch (e) {
      throw new UsageError((e as Error).message);
    }
    const n = numOpt('auto-calib-images');
    if (n !== undefined && !(Number.isInteger(n) && n >= 1)) throw new UsageError(`--auto-calib-images must be a positive integer, got "${s('auto-calib-images')}"`);
    const criterion = s('auto-calib-criterion') ?? AUTO_CALIB_DEFAULT_CRITERION;
    if (!isAutoCalibCriterion(criterion)) throw new UsageError(`--auto-calib-criterion must be one of ${AUTO_CALIB_CRITERIA.join('|')}, got "${criterion}"`);
    const gate = numOpt('auto-calib-gate') ?? AUTO_CALIB_DEFAULT_GATE;
    if (!(gate >= 0)) throw new UsageError(`--auto-calib-gate must be a number >= 0 (a paired z; 0: any improvement), got "${s('auto-calib-gate')}"`);
    autoCalib = { candidates, images: n ?? null, criterion, gate };
  }
  return { adaround, autoCalib };
}
