/** The qat stage's distillation options: --distill [--distill-loss mse|kl] [--feature-weight W] (src/train/distill.ts). */
import { DISTILL_LOSSES, type DistillLoss } from '../train/distill.ts';
import { UsageError } from './options.ts';

export const DISTILL_OPTIONS = {
  distill: { type: 'boolean' }, 'distill-loss': { type: 'string' }, 'feature-weight': { type: 'string' },
} as const;

export interface DistillOptions { loss: DistillLoss; featureWeight: number }

/** null: no --distill. `labelled`: whether the data has labels (without them QAT must distill). */
export function parseDistill(rest: Record<string, string | boolean | undefined>, labelled: boolean): DistillOptions | null {
  const on = rest.distill === true;
  const loss = rest['distill-loss'] as string | undefined, fw = rest['feature-weight'] as string | undefined;
  if (!on && (loss !== undefined || fw !== undefined)) {
    throw new UsageError(`--${loss !== undefined ? 'distill-loss' : 'feature-weight'} is an option of distillation QAT: add --distill`);
  }
  if (!on) {
    if (!labelled) {
      throw new UsageError('QAT with cross-entropy needs labels, and the data has none: add --distill (the float model teaches the ' +
        'quantized one on the images alone)');
    }
    return null;
  }
  if (loss !== undefined && !(DISTILL_LOSSES as readonly string[]).includes(loss)) {
    throw new UsageError(`--distill-loss must be ${DISTILL_LOSSES.join('|')}, got "${loss}"`);
  }
  const featureWeight = fw === undefined ? 0 : Number(fw);
  if (fw !== undefined && (fw.trim() === '' || !Number.isFinite(featureWeight) || featureWeight < 0)) {
    throw new UsageError(`--feature-weight must be a number >= 0, got "${fw}"`);
  }
  return { loss: (loss ?? 'mse') as DistillLoss, featureWeight };
}
