/**
 * Writes real images in the CIFAR-10 binary format, for the CLI's `--data cifar10:DIR` where CIFAR-10 itself cannot
 * be had (no package ships it here): Fashion-MNIST images (the official IDX split, /usr/share/datasets/fashion-mnist,
 * else the built-in set), padded from 28x28 to 32x32 and tinted into three different channels (R = p, G = 3p/4,
 * B = p/2), with their own labels 0..9 (the loader names the classes as CIFAR-10's). Files: data_batch_1.bin with
 * the first --train images of a seed-0 permutation of the train split, test_batch.bin likewise with --test images.
 *   node --import tsx scripts/fashion-as-cifar10.ts OUTDIR [--train N] [--test M]
 */
import { mkdir, writeFile } from 'node:fs/promises';
import { join, resolve } from 'node:path';
import { pathToFileURL } from 'node:url';
import { parseArgs } from 'node:util';
import { CIFAR_RECORD_BYTES } from '../src/data/cifar.ts';
import { randomSubset, type LabelledDataset } from '../src/data/dataset.ts';
import { loadFashionMnist } from '../src/data/fashion-mnist.ts';
import { loadIdxFolder } from '../src/data/idx.ts';

/** One 1x28x28 image as the 3x32x32 planes of a CIFAR record (pixels only). */
export function tintedPlanes(grey: Uint8Array): Uint8Array {
  const out = new Uint8Array(3 * 32 * 32);
  const tint = [1, 0.75, 0.5];
  for (let c = 0; c < 3; c++) {
    for (let y = 0; y < 28; y++) {
      for (let x = 0; x < 28; x++) out[c * 1024 + (y + 2) * 32 + x + 2] = Math.round(grey[y * 28 + x] * tint[c]);
    }
  }
  return out;
}

/** The CIFAR-10 binary records (label byte + 3072 pixel bytes) of a 1x28x28 data set. */
export function cifarRecords(ds: LabelledDataset): Uint8Array {
  if (ds.channels !== 1 || ds.height !== 28 || ds.width !== 28) throw new Error(`${ds.name}: expected 1x28x28 images`);
  const out = new Uint8Array(ds.count * CIFAR_RECORD_BYTES);
  for (let i = 0; i < ds.count; i++) {
    out[i * CIFAR_RECORD_BYTES] = ds.labels[i];
    out.set(tintedPlanes(ds.images.subarray(i * 784, (i + 1) * 784)), i * CIFAR_RECORD_BYTES + 1);
  }
  return out;
}

export async function writeFashionAsCifar10(dir: string, train: number, test: number): Promise<{ train: LabelledDataset; test: LabelledDataset }> {
  let d;
  try {
    d = await loadIdxFolder('/usr/share/datasets/fashion-mnist');
  } catch {
    d = await loadFashionMnist();
  }
  const tr = randomSubset(d.train, train, 0), te = randomSubset(d.test, test, 0);
  await mkdir(dir, { recursive: true });
  await writeFile(join(dir, 'data_batch_1.bin'), cifarRecords(tr));
  await writeFile(join(dir, 'test_batch.bin'), cifarRecords(te));
  return { train: tr, test: te };
}

if (process.argv[1] && import.meta.url === pathToFileURL(resolve(process.argv[1])).href) {
  const { values, positionals } = parseArgs({ allowPositionals: true, options: { train: { type: 'string' }, test: { type: 'string' } } });
  if (positionals.length !== 1) {
    console.error('usage: node --import tsx scripts/fashion-as-cifar10.ts OUTDIR [--train N] [--test M]');
    process.exit(2);
  }
  const n = Number(values.train ?? 500), m = Number(values.test ?? 200);
  const r = await writeFashionAsCifar10(positionals[0], n, m);
  console.log(`${positionals[0]}: data_batch_1.bin (${r.train.count} images), test_batch.bin (${r.test.count} images), ` +
    'Fashion-MNIST pixels in the CIFAR-10 binary format');
}
