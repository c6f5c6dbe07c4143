/**
 * CIFAR-10 binary batches (the "binary version" of https://www.cs.toronto.edu/~kriz/cifar.html):
 * records of 1 label byte + 3072 pixel bytes (1024 red, 1024 green, 1024 blue; 32x32 rows), which is
 * already the NCHW layout of ImageDataset. data_batch_N.bin files are the train split, test_batch.bin
 * the test split; with no test batch among the files, the caller splits the train records.
 */
import { DataFormatError } from './errors.ts';
import type { LabelledDataset } from './dataset.ts';
import { formatBytes, LIMITS } from './limits.ts';

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

/** Parses one batch file; throws DataFormatError (naming the file) when its size, format or labels are wrong. */
export function parseCifarBatch(bytes: Uint8Array, fileName: string, name = fileName): LabelledDataset {
  if (bytes.length === 0) throw new DataFormatError(fileName, 'is empty (a CIFAR-10 batch holds records of 3073 bytes)');
  if (bytes[0] === 0x1f && bytes[1] === 0x8b) {
    throw new DataFormatError(fileName, 'is gzip-compressed, not a CIFAR-10 batch: extract the data_batch_*.bin and test_batch.bin files from the archive first');
  }
  if (bytes.length > 262 && String.fromCharCode(...bytes.subarray(257, 262)) === 'ustar') {
    throw new DataFormatError(fileName, 'is a tar archive, not a CIFAR-10 batch: extract the data_batch_*.bin and test_batch.bin files from it first');
  }
  if (bytes.length > LIMITS.datasetBytes) {
    throw new DataFormatError(fileName, `is ${formatBytes(bytes.length)}, over the limit of ${formatBytes(LIMITS.datasetBytes)} for a data set`);
  }
  if (bytes.length % CIFAR_RECORD_BYTES !== 0) {
    const cifar100 = bytes.length % (CIFAR_RECORD_BYTES + 1) === 0 ? ' (its size fits CIFAR-100 records of 3074 bytes; only CIFAR-10 is supported)' : '';
    throw new DataFormatError(fileName, `is not a CIFAR-10 batch: ${bytes.length} bytes is not a whole number of 3073-byte records` +
      ` (${Math.floor(bytes.length / CIFAR_RECORD_BYTES)} records and ${bytes.length % CIFAR_RECORD_BYTES} bytes left over)${cifar100}`);
  }
  const count = bytes.length / CIFAR_RECORD_BYTES;
  const px = CIFAR_RECORD_BYTES - 1;
  // Labels first: a file that is not CIFAR-10 is refused before its pixels are copied.
  const labels = new Uint8Array(count);
  for (let i = 0; i < count; i++) {
    const label = bytes[i * CIFAR_RECORD_BYTES];
    if (label > 9) {
      throw new DataFormatError(fileName, `record ${i + 1} of ${count} has label ${label}, outside 0..9: the file is not a CIFAR-10 batch or is damaged`);
    }
    labels[i] = label;
  }
  const images = new Uint8Array(count * px);
  for (let i = 0; i < count; i++) images.set(bytes.subarray(i * CIFAR_RECORD_BYTES + 1, (i + 1) * CIFAR_RECORD_BYTES), i * px);
  return { name, images, labels, count, channels: 3, height: 32, width: 32, numClasses: 10, classNames: [...CIFAR10_CLASS_NAMES] };
}

/** Concatenates data sets of the same image shape and classes. */
export function concatDatasets(parts: LabelledDataset[], name: string): LabelledDataset {
  if (parts.length === 0) throw new Error('concatDatasets: nothing to concatenate');
  const [a] = parts;
  const bytes = parts.reduce((s, p) => s + p.images.length, 0);
  if (bytes > LIMITS.datasetBytes) throw new DataFormatError(name, `the batches hold ${formatBytes(bytes)} of images together, over the limit of ${formatBytes(LIMITS.datasetBytes)} for a data set`);
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
