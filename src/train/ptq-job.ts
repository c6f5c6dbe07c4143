/**
 * The PTQ algorithms of a calibration job in the training worker (automatic calibration, then AdaRound, as the CLI's
 * calib stage runs them), with progress as quant-progress messages and cancel through the job's signal.
 */
import type { ImageDataset } from '../data/dataset.ts';
import { resolveAdaRoundConfig } from '../quant/ptq/adaround-config.ts';
import { adaround } from '../quant/ptq/adaround.ts';
import { autoCalibrate, autoCalibTrials, checkCandidates, withDefaults } from '../quant/ptq/auto-calib.ts';
import type { QuantizedModel } from '../quant/quantized-model.ts';
import { evaluate } from './evaluate.ts';
import type { JobContext, JobData } from './quant-jobs.ts';
import type { PtqJobSettings, PtqPhase, PtqResult } from './quant-protocol.ts';
import { Cancelled } from './trainer.ts';

async function cancellable<T>(f: () => Promise<T>): Promise<T> {
  try {
    return await f();
  } catch (e) {
    if ((e as { name?: string }).name === 'AbortError') throw new Cancelled();
    throw e;
  }
}

export async function runPtq(ctx: JobContext, qm: QuantizedModel, calibDs: ImageDataset, test: ImageDataset, data: JobData,
  s: PtqJobSettings, batchSize: number): Promise<PtqResult> {
  const start = performance.now();
  let phaseStart = start;
  const progress = (phase: PtqPhase, done: number, total: number) => {
    const secs = (performance.now() - phaseStart) / 1000;
    ctx.post({ type: 'quant-progress', stage: 'calib', phase, done, total, loss: NaN, etaSeconds: done > 0 ? (secs / done) * (total - done) : NaN });
  };
  const out: PtqResult = { autoCalib: null, adaround: null };
  if (s.autoCalib) {
    const candidates = withDefaults(checkCandidates(s.autoCalib.candidates));
    const total = autoCalibTrials(qm, candidates);
    out.autoCalib = await cancellable(() => autoCalibrate(qm, calibDs, { candidates, batchSize, criterion: s.autoCalib!.criterion, gate: s.autoCalib!.gate }, {
      normalize: data.normalize, signal: ctx.signal,
      onProgress: (p) => progress('auto-calib', p.site * candidates.length + candidates.indexOf(p.candidate), total),
    }));
  }
  if (s.adaround) {
    phaseStart = performance.now();
    const cfg = resolveAdaRoundConfig({ batchSize, ...s.adaround });
    const near = await evaluate(ctx.be, qm.plan.graph, qm.store, test, { hooks: qm.hooks, normalize: data.normalize, signal: ctx.signal });
    const r = await cancellable(() => adaround(qm, calibDs, cfg, {
      normalize: data.normalize, signal: ctx.signal,
      onProgress: (p) => { if (p.step % 10 === 0 || p.step === p.steps) progress('adaround', (p.layer - 1) * p.steps + p.step, p.layers * p.steps); },
    }));
    out.adaround = { ...r, nearestAcc1: near.acc1 };
  }
  return out;
}
