/** The qconfig the Quantize settings describe (for the graph's dtypes and override choices on the page). */
import { isMarch } from '../../../qmath/march.ts';
import { qconfigTemplate, type QConfig } from '../../../quant/qconfig.ts';
import type { QuantSettingsState } from '../../store/quant-slice.ts';

export function qconfigOf(q: QuantSettingsState, yuv: boolean): QConfig {
  return qconfigTemplate(q.template, {
    march: isMarch(q.march) ? q.march : 'bayes', observer: q.observer || undefined, overrides: q.overrides,
    quantStubScale: yuv ? 1 / 128 : null, weightBits: q.weightBits,
  });
}
