/**
 * `calib --int16-top K`: the top K sites of the sensitivity ranking in DIR/report.json (written by `analyze`) as int16
 * overrides of the qconfig. The ranking must be of the same model.
 */
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { topSites } from '../quant/analysis/int16-sites.ts';
import type { SiteRef } from '../quant/analysis/site-precision.ts';
import { rankingFor } from '../quant/analysis/report.ts';
import { UsageError } from './options.ts';

export function parseInt16Top(v: string | undefined): number | null {
  if (v === undefined) return null;
  const k = Number(v);
  if (!Number.isInteger(k) || k < 0) throw new UsageError(`--int16-top must be an integer >= 0, got "${v}"`);
  return k;
}

export async function int16TopSites(dir: string, model: string, k: number): Promise<SiteRef[]> {
  const file = join(dir, 'report.json');
  let report: { analyze?: unknown };
  try {
    report = JSON.parse(await readFile(file, 'utf8'));
  } catch (e) {
    throw new Error(`${file}: cannot read the sensitivity ranking (${(e as Error).message}); run the analyze stage first`);
  }
  return topSites(rankingFor(report.analyze, model, file), k);
}
