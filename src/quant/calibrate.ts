/**
 * Calibration: the model in CALIBRATION state on N images of the chosen data, observers fed batch by
 * batch (progress and cancel), then scales from the observers. The model is left in VALIDATION.
 */
import { Tape } from '../engine/autograd.ts';
import type { ImageDataset } from '../data/dataset.ts';
import { iterateBatches, type Normalization } from '../data/loader.ts';
import { runGraph } from '../nn/executor.ts';
import type { QuantizedModel } from './quantized-model.ts';

export interface CalibrateOptions {
  batchSize: number;
  normalize?: Normalization;
  signal?: AbortSignal;
  onProgress?: (p: { imagesDone: number; totalImages: number; batch: number; batches: number }) => void;
}

export interface CalibrateResult { images: number; seconds: number; imagesPerSecond: number }

export async function calibrate(qm: QuantizedModel, ds: ImageDataset, o: CalibrateOptions): Promise<CalibrateResult> {
  const start = performance.now();
  const batches = Math.ceil(ds.count / o.batchSize);
  qm.setState('CALIBRATION');
  let done = 0, batch = 0;
  for (const b of iterateBatches(ds, o.batchSize, 0, 0, { shuffle: false, normalize: o.normalize })) {
    if (o.signal?.aborted) throw new DOMException('calibration cancelled', 'AbortError');
    const tape = new Tape(qm.be, false, false);
    try {
      runGraph(tape, qm.plan.graph, qm.store, tape.input(b.x, b.shape), { ...qm.hooks });
      await qm.observePending();
    } finally {
      tape.dispose();
    }
    done += b.n;
    o.onProgress?.({ imagesDone: done, totalImages: ds.count, batch: ++batch, batches });
  }
  qm.finishCalibration();
  qm.setState('VALIDATION');
  const seconds = (performance.now() - start) / 1000;
  return { images: done, seconds, imagesPerSecond: done / Math.max(1e-9, seconds) };
}
