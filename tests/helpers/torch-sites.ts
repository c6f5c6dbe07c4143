/**
 * Activation sites of a PyTorch export vs the studio's fake-quant model: per site, how many values differ and by how
 * many quantization steps of that site (tests/torch-export*.test.ts).
 */
import type { TorchSiteJson } from '../../src/io/torch/qparams-json.ts';

export interface SiteDiff {
  key: string;
  node: string;
  dtype: string;
  /** Values more than 1e-3 of a step apart. */
  off: number;
  total: number;
  /** The largest difference, in steps of the site's scale. */
  worst: number;
}

export function siteDiffs(sites: [string, TorchSiteJson][], torch: Map<string, Float32Array>, studio: Map<string, Float32Array>): SiteDiff[] {
  return sites.map(([key, site]) => {
    const t = torch.get(key), v = studio.get(site.node);
    if (!t || !v || t.length !== v.length) throw new Error(`site ${key}: ${t?.length} values from PyTorch, ${v?.length} from the studio`);
    let off = 0, worst = 0;
    for (let i = 0; i < v.length; i++) {
      const steps = Math.abs(t[i] - v[i]) / site.scale[0];
      worst = Math.max(worst, steps);
      if (steps > 1e-3) off++;
    }
    return { key, node: site.node, dtype: site.dtype, off, total: v.length, worst };
  });
}

export const siteReport = (d: SiteDiff[]): string => d.map((s) => `${s.node}: ${s.off}/${s.total} off, worst ${s.worst.toFixed(3)} step`).join('; ');
