/**
 * int16 for chosen sites: the qconfig overrides that put a ranked list of sites in int16 (what `calib --int16-top K`
 * and the page's "int16 for top K" calibrate with), and the all-int16 qconfig of a model whose scales the analysis
 * borrows for any int8/int16 mix (see site-precision.ts).
 */
import type { NodeOverride, QConfig } from '../qconfig.ts';
import type { SiteRef } from './site-precision.ts';

/** Overrides match by glob: a '*' in a node id becomes '?' (any one character), so it cannot widen to other nodes' names. */
const literal = (id: string): string => id.replace(/[*?]/g, '?');

export function int16Overrides(sites: readonly SiteRef[]): NodeOverride[] {
  return sites.map((s) => (s.kind === 'activation'
    ? { match: literal(s.site), activation: { dtype: 'qint16' as const } }
    : { match: literal(s.site), weight: { dtype: 'qint16' as const } }));
}

/** `qc` with the given sites in int16 (after its own overrides). */
export function withInt16Sites(qc: QConfig, sites: readonly SiteRef[]): QConfig {
  return { ...qc, overrides: [...qc.overrides, ...int16Overrides(sites)] };
}

/** `qc` with every activation and weight in int16. */
export function allInt16(qc: QConfig): QConfig {
  return { ...qc, overrides: [...qc.overrides, { match: '*', activation: { dtype: 'qint16' }, weight: { dtype: 'qint16' } }] };
}

/** The first K entries of a sensitivity ranking as sites (K larger than the list: all of them). */
export function topSites(ranking: readonly { site: string; kind: string }[], k: number): SiteRef[] {
  return ranking.slice(0, k).map((r) => {
    if (r.kind !== 'activation' && r.kind !== 'weight') throw new Error(`sensitivity entry ${r.site}: kind "${r.kind}" is not activation or weight`);
    return { site: r.site, kind: r.kind };
  });
}
