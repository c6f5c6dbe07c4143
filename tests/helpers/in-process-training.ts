/**
 * The training worker's host run in-process on the CPU backend, over a toy data set of 10 blob classes: the page's
 * controllers driven as the page drives them, without a browser (tests of the UI controllers).
 */
import type { ImageDataset, TrainTestData } from '../../src/data/dataset.ts';
import { createCpuBackend } from '../../src/engine/reference/cpu-backend.ts';
import type { WorkerLike } from '../../src/train/client.ts';
import type { TrainJobConfig, TrainRequest } from '../../src/train/protocol.ts';
import { createTrainingHost } from '../../src/train/training.worker.ts';

/** `count` 28x28 images, a 6x6 white square whose place is the class (i % 10). */
export const toy = (count: number, name: string): ImageDataset => {
  const images = new Uint8Array(count * 784), labels = new Uint8Array(count);
  for (let i = 0; i < count; i++) {
    labels[i] = i % 10;
    for (let k = 0; k < 36; k++) images[i * 784 + (2 + (i % 5) * 5 + Math.floor(k / 6)) * 28 + 2 + Math.floor((i % 10) / 5) * 12 + (k % 6)] = 255;
  }
  return { name, images, labels, count, channels: 1, height: 28, width: 28, numClasses: 10, classNames: [...'0123456789'] };
};
export const toyData = (): TrainTestData => ({ train: toy(64, 'toy/train'), test: toy(48, 'toy/test'), source: 'toy' });

/** One epoch of cnn-small on the toy data. */
export const TOY_FLOAT: TrainJobConfig = { model: 'cnn-small', epochs: 1, batchSize: 32, lr: 5e-3, optimizer: 'adam', schedule: 'onecycle', seed: 0, trainImages: 64, testImages: 16 };

/** The training worker host in-process, delivering messages on later macrotasks as a worker would. */
export function inProcessTrainingWorker(): WorkerLike {
  let alive = true;
  const w: WorkerLike = {
    onmessage: null,
    onerror: null,
    postMessage(m: TrainRequest) { setTimeout(() => alive && handle(m), 0); },
    terminate() { alive = false; },
  };
  const handle = createTrainingHost({
    post: (m) => setTimeout(() => alive && w.onmessage?.({ data: m }), 0),
    createBackend: async () => ({ backend: createCpuBackend(), reason: 'test' }),
    loadData: async () => toyData(),
  });
  return w;
}
