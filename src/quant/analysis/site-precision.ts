/**
 * Per-site precision for the analysis: every quantized site (activation output or conv/linear weight) is run as
 * float, as the calibrated / QAT model quantizes it (int8 as a rule), or in int16, by routing the executor's hooks
 * to one of up to two QuantizedModels that share one ParamStore. Calibration observes float activations, so a
 * site's int16 scale does not depend on the other sites' precision: a model calibrated once in int8 and once in
 * int16 gives every int8/int16 mix exactly as a calibration with those per-site overrides would.
 */
import type { Hooks } from '../../nn/executor.ts';
import type { QuantizedModel } from '../quantized-model.ts';

export type SiteKind = 'activation' | 'weight';
export type SitePrecision = 'float' | 'base' | 'int16';

/** A quantized site: the node whose output (activation) or weight (weight) is fake-quantized. */
export interface SiteRef {
  site: string;
  kind: SiteKind;
}

export const siteKey = (s: SiteRef): string => `${s.kind}:${s.site}`;

/** Every site of a prepared model, activations then weights, each in graph order. */
export function sitesOf(qm: QuantizedModel): SiteRef[] {
  return [
    ...qm.plan.acts.map((a) => ({ site: a.node, kind: 'activation' as const })),
    ...qm.plan.weights.map((w) => ({ site: w.node, kind: 'weight' as const })),
  ];
}

/**
 * Hooks that quantize each site as `precisionOf` says: 'base' through `base` (the checkpoint's model), 'int16'
 * through `int16` (the same parameters calibrated with int16 sites), 'float' not at all.
 */
export function mixedHooks(base: QuantizedModel, precisionOf: (s: SiteRef) => SitePrecision, int16: QuantizedModel | null = null): Hooks {
  const b = base.hooks, w = int16?.hooks;
  const pick = (s: SiteRef): Hooks | null => {
    const p = precisionOf(s);
    if (p === 'float') return null;
    if (p === 'int16') {
      if (!w) throw new Error(`site ${s.site} (${s.kind}) in int16 needs the int16-calibrated model`);
      return w;
    }
    return b;
  };
  return {
    hook: (node, value, tape, inputs) => {
      const h = pick({ site: node.id, kind: 'activation' });
      // the exact integer forward (docs/fixed-point.md §2e) where the node's inputs (and a conv's weight) are quantized
      // by the same model, so that they lie on its grids; else the float op's fake quant
      const ex = base.exact.get(node.id);
      const same = ex !== undefined && ex.inputs.every((i) => pick({ site: i, kind: 'activation' }) === h) &&
        (ex.op !== 'conv' || pick({ site: node.id, kind: 'weight' }) === h);
      return h?.hook ? h.hook(node, value, tape, same ? inputs : undefined) : value;
    },
    weightHook: (node, weight, tape) => {
      const h = pick({ site: node.id, kind: 'weight' });
      return h?.weightHook ? h.weightHook(node, weight, tape) : weight;
    },
    // the bias goes on the int32 grid of the model that quantizes the weight (float weight: float bias)
    biasHook: (node, bias, tape) => {
      const h = pick({ site: node.id, kind: 'weight' });
      return h?.biasHook ? h.biasHook(node, bias, tape) : bias;
    },
  };
}

/** Only the given sites quantized (the rest float), or only they left float (the rest quantized). */
export function onlyQuantized(base: QuantizedModel, sites: readonly SiteRef[]): Hooks {
  const keys = new Set(sites.map(siteKey));
  return mixedHooks(base, (s) => (keys.has(siteKey(s)) ? 'base' : 'float'));
}

export function onlyFloat(base: QuantizedModel, sites: readonly SiteRef[]): Hooks {
  const keys = new Set(sites.map(siteKey));
  return mixedHooks(base, (s) => (keys.has(siteKey(s)) ? 'float' : 'base'));
}

/** The top sites in int16, the rest as the base model quantizes them. */
export function int16For(base: QuantizedModel, int16: QuantizedModel, sites: readonly SiteRef[]): Hooks {
  const keys = new Set(sites.map(siteKey));
  return mixedHooks(base, (s) => (keys.has(siteKey(s)) ? 'int16' : 'base'), int16);
}
