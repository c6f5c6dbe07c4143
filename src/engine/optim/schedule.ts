/**
 * Learning-rate schedules with PyTorch's formulas, evaluated per optimizer step.
 * - step: lr * gamma^floor(epoch / stepSize)
 * - cosine: CosineAnnealingLR over all steps, down to 0
 * - onecycle: OneCycleLR (pct_start 0.3, cos annealing, div_factor 25, final_div_factor 1e4) with
 *   momentum cycled between 0.95 and 0.85 (for Adam: beta1), as PyTorch does by default.
 */
export type ScheduleName = 'constant' | 'step' | 'cosine' | 'onecycle';

export interface ScheduleConfig {
  name: ScheduleName;
  /** The peak (one-cycle) or initial learning rate. */
  lr: number;
  totalSteps: number;
  stepsPerEpoch: number;
  stepSize?: number;
  gamma?: number;
}

export interface ScheduleValue { lr: number; momentum: number | null }

const cosAnneal = (start: number, end: number, pct: number) => end + ((start - end) / 2) * (Math.cos(Math.PI * pct) + 1);

/** Value for step `t` (0-based: the t-th optimizer step). */
export function scheduleAt(c: ScheduleConfig, t: number): ScheduleValue {
  switch (c.name) {
    case 'constant': return { lr: c.lr, momentum: null };
    case 'step': {
      const epoch = Math.floor(t / c.stepsPerEpoch);
      return { lr: c.lr * (c.gamma ?? 0.1) ** Math.floor(epoch / (c.stepSize ?? 1)), momentum: null };
    }
    case 'cosine': return { lr: cosAnneal(c.lr, 0, Math.min(1, t / Math.max(1, c.totalSteps))), momentum: null };
    case 'onecycle': {
      const initial = c.lr / 25;
      const min = initial / 1e4;
      const upEnd = 0.3 * c.totalSteps - 1;
      const downEnd = c.totalSteps - 1;
      if (t <= upEnd) {
        const pct = upEnd > 0 ? t / upEnd : 1;
        return { lr: cosAnneal(initial, c.lr, pct), momentum: cosAnneal(0.95, 0.85, pct) };
      }
      const pct = Math.min(1, (t - upEnd) / Math.max(1e-12, downEnd - upEnd));
      return { lr: cosAnneal(c.lr, min, pct), momentum: cosAnneal(0.85, 0.95, pct) };
    }
  }
}
