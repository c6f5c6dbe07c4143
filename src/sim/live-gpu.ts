/**
 * The simulator's GPU context, kept alive across device losses: a lost device (driver reset, a tab in the
 * background too long, `device.destroy()`) is replaced by a freshly acquired one on the next use, as the training
 * worker re-creates its engine. Without this, every `webgpu` simulation after a loss failed until a reload.
 * The model's weights are re-uploaded on the new context by run-gpu.ts (its cache is keyed by context).
 */
import type { GpuContext } from '../engine/webgpu/gpu-context.ts';

/** How long to wait for `device.lost` to settle after a failed dispatch (it resolves on a later task). */
const LOSS_SETTLE_MS = 100;

export class LiveGpu {
  private ctx: Promise<GpuContext> | null = null;
  /** Devices lost so far (re-acquired on the next use). */
  losses = 0;

  constructor(private readonly acquire: () => Promise<GpuContext>) {}

  /** A context whose device is not lost; acquires one on first use, after a loss or after a failed acquisition. */
  async get(): Promise<GpuContext> {
    if (this.ctx) {
      const c = await this.ctx.catch(() => null);
      if (c && !c.lost) return c;
      if (c) this.losses++;
      this.ctx = null;
    }
    const p = this.acquire();
    this.ctx = p;
    p.catch(() => {
      if (this.ctx === p) this.ctx = null;
    });
    return p;
  }

  /** The context in use, if one was acquired and is still alive (nothing is acquired). */
  async current(): Promise<GpuContext | null> {
    const c = this.ctx ? await this.ctx.catch(() => null) : null;
    return c && !c.lost ? c : null;
  }

  /**
   * Runs `f` on a live context; when it fails because the device was lost meanwhile, runs it once more on a fresh
   * device (the simulator is deterministic and stateless apart from the uploaded weights, so a retry is exact).
   */
  async run<T>(f: (ctx: GpuContext) => Promise<T>): Promise<T> {
    const ctx = await this.get();
    try {
      return await f(ctx);
    } catch (e) {
      if (!(await wasLost(ctx))) throw e;
      return f(await this.get());
    }
  }
}

/** Whether the context's device is (or, within a moment, turns out to be) lost. */
async function wasLost(ctx: GpuContext): Promise<boolean> {
  if (ctx.lost) return true;
  await Promise.race([ctx.device.lost, new Promise((resolve) => setTimeout(resolve, LOSS_SETTLE_MS))]);
  return ctx.lost != null;
}
