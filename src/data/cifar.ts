/**
 * CIFAR-10 binary batches (the "binary version" of https://www.cs.toronto.edu/~kriz/cifar.html):
 * records of 1 label byte + 3072 pixel bytes (1024 red, 1024 green, 1024 blue; 32x32 rows), which is
 * already the NCHW layout of ImageDataset. data_batch_N.bin files are the train split, test_batch.bin
 * the test split; with no test batch among the files, the caller splits the train records.
 */
import { DataFormatError } from './errors.ts';
import type { ImageDataset } from './dataset.ts';

export const CIFAR10_CLASS_NAMES: readonly string[] = Object.freeze([
  'airplane', 'automobile', 'bird', 'cat', 'deer', 'dog', 'frog', 'horse', 'ship', 'truck',
]);
export const CIFAR_RECORD_BYTES = 1 + 3 * 32 * 32;

/** True when the name looks like a CIFAR-10 binary batch. */
export function isCifarBatchName(name: string): boolean {
  return /(^|[\\/])(data_batch_\d+|test_batch)\.bin$/i.test(name);
}

export function cifarSplitOf(name: string): 'train' | 'test' {
  return /(^|[\\/])test_batch\.bin$/i.test(name) ? 'test' : 'train';
}

/** Parses one batch file; throws DataFormatError (naming the file) when its size or labels are wrong. */
export function parseCifarBatch(bytes: Uint8Array, fileName: string, name = fileName): ImageDataset {
  if (bytes.length === 0) throw new DataFormatError(fileName, 'is empty (a CIFAR-10 batch holds records of 3073 bytes)');
  if (bytes.length % CIFAR_RECORD_BYTES !== 0) {
    throw new DataFormatError(fileName, `${bytes.length} bytes is not a whole number of 3073-byte CIFAR-10 records` +
      ` (${Math.floor(bytes.length / CIFAR_RECORD_BYTES)} records and ${bytes.length % CIFAR_RECORD_BYTES} bytes left over)`);
  }
  const count = bytes.length / CIFAR_RECORD_BYTES;
  const px = CIFAR_RECORD_BYTES - 1;
  const images = new Uint8Array(count * px);
  const labels = new Uint8Array(count);
  for (let i = 0; i < count; i++) {
    const o = i * CIFAR_RECORD_BYTES;
    const label = bytes[o];
    if (label > 9) throw new DataFormatError(fileName, `record ${i} has label ${label}, outside 0..9`);
    labels[i] = label;
    images.set(bytes.subarray(o + 1, o + CIFAR_RECORD_BYTES), i * px);
  }
  return { name, images, labels, count, channels: 3, height: 32, width: 32, numClasses: 10, classNames: [...CIFAR10_CLASS_NAMES] };
}

/** Concatenates data sets of the same image shape and classes. */
export function concatDatasets(parts: ImageDataset[], name: string): ImageDataset {
  if (parts.length === 0) throw new Error('concatDatasets: nothing to concatenate');
  const [a] = parts;
  const count = parts.reduce((s, p) => s + p.count, 0);
  const images = new Uint8Array(parts.reduce((s, p) => s + p.images.length, 0));
  const labels = new Uint8Array(count);
  let io = 0, lo = 0;
  for (const p of parts) {
    images.set(p.images, io);
    labels.set(p.labels, lo);
    io += p.images.length;
    lo += p.count;
  }
  return { ...a, name, images, labels, count, classNames: [...a.classNames] };
}
