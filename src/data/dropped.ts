/**
 * What the user dropped (or picked), turned into a train/test data set: IDX files (.gz or raw), CIFAR-10
 * binary batches, a .zip of class folders, or a folder of class folders with PNG/JPEG images. Pure
 * apart from the injected image decoder, so the decode worker and Node tests share it. Every failure
 * is a DataFormatError that names the file (or folder) at fault.
 */
import { CIFAR10_CLASS_NAMES, cifarSplitOf, concatDatasets, isCifarBatchName, parseCifarBatch } from './cifar.ts';
import { validateDataset, type LabelledDataset, type TrainTestData } from './dataset.ts';
import { DataFormatError } from './errors.ts';
import { idxFilesToTrainTest, idxRoleOf } from './idx.ts';
import { imageFolderToTrainTest, IMAGE_FILE, isIgnoredPath, stratifiedSplit, type ImageDecoder, type InputFile } from './image-folder.ts';
import { resizeDataset } from './transform.ts';
import { unzipFiles } from './zip.ts';

export type DroppedKind = 'idx' | 'cifar' | 'zip' | 'image-folder';

export interface DecodeOptions {
  resize?: [number, number] | null;
  /** Describes the drop when no file can (an empty folder). */
  source?: string;
  onProgress?: (done: number, total: number, stage: string) => void;
}

export interface DecodedData {
  data: TrainTestData;
  kind: DroppedKind;
  /** The split used, in words. */
  split: string;
}

const fmt = (n: number) => n.toLocaleString('en-US');

export function detectKind(files: InputFile[]): DroppedKind | null {
  const names = files.map((f) => f.path).filter((p) => !isIgnoredPath(p));
  if (names.some((n) => /\.zip$/i.test(n))) return 'zip';
  if (names.some((n) => idxRoleOf(n))) return 'idx';
  if (names.some((n) => isCifarBatchName(n) || /\.bin$/i.test(n))) return 'cifar';
  if (names.some((n) => IMAGE_FILE.test(n))) return 'image-folder';
  return null;
}

function cifar(files: InputFile[], source: string): { data: TrainTestData; split: string } {
  const bins = files.filter((f) => /\.bin$/i.test(f.path));
  const parsed = bins.map((f) => ({ split: cifarSplitOf(f.path), ds: parseCifarBatch(f.bytes, f.path) }));
  const train = parsed.filter((p) => p.split === 'train').map((p) => p.ds);
  const test = parsed.filter((p) => p.split === 'test').map((p) => p.ds);
  if (train.length && test.length) {
    return {
      data: { train: concatDatasets(train, 'cifar10/train'), test: concatDatasets(test, 'cifar10/test'), source },
      split: `train: ${train.length} data batch${train.length > 1 ? 'es' : ''}, test: test_batch.bin`,
    };
  }
  const all = concatDatasets([...train, ...test], 'cifar10');
  const s = stratifiedSplit(all.labels, 10, 0.2, 0);
  const part = (ids: number[], name: string) => ({ ...all, ...pickIds(all, ids), name, classNames: [...CIFAR10_CLASS_NAMES] });
  return { data: { train: part(s.train, 'cifar10/train'), test: part(s.test, 'cifar10/test'), source }, split: '80/20 stratified split of the records (seed 0)' };
}

function pickIds(ds: LabelledDataset, ids: number[]) {
  const size = ds.channels * ds.height * ds.width;
  const images = new Uint8Array(ids.length * size);
  const labels = new Uint8Array(ids.length);
  ids.forEach((i, k) => {
    images.set(ds.images.subarray(i * size, (i + 1) * size), k * size);
    labels[k] = ds.labels[i];
  });
  return { images, labels, count: ids.length };
}

const folderSplitText = (d: TrainTestData) => d.train.labels
  ? '80/20 stratified split per class folder (seed 0)'
  : 'no class folders: unlabelled images, 80/20 random split (seed 0)';

export async function decodeDropped(files: InputFile[], decode: ImageDecoder, o: DecodeOptions = {}): Promise<DecodedData> {
  const source = o.source ?? (files.length === 1 ? files[0].path : files[0]?.path.split('/')[0] || 'the dropped files');
  const kind = detectKind(files);
  if (files.length === 0) throw new DataFormatError(o.source ?? 'the dropped folder', 'is empty: drop class folders (or one folder) of PNG/JPEG images, a .zip, IDX or CIFAR-10 files');
  if (!kind) {
    throw new DataFormatError(files[0].path, 'is not a data file Quant Studio reads (IDX .gz/raw, CIFAR-10 .bin, .zip, or class folders of PNG/JPEG)');
  }
  const progress = (stage: string) => (d: number, t: number) => o.onProgress?.(d, t, stage);
  let out: { data: TrainTestData; split: string };
  switch (kind) {
    case 'idx': {
      const data = await idxFilesToTrainTest(files.map((f) => ({ name: f.path, bytes: f.bytes })), { source });
      out = { data, split: 'train: train-*-ubyte, test: t10k-*-ubyte' };
      break;
    }
    case 'cifar':
      out = cifar(files, source);
      break;
    case 'zip': {
      const zips = files.filter((f) => /\.zip$/i.test(f.path));
      const inner = zips.flatMap((z) => unzipFiles(z.bytes, z.path, { onProgress: progress(`unzipping ${z.path}`) }));
      let data: TrainTestData;
      try {
        data = await imageFolderToTrainTest(inner, decode, { source: zips[0].path, resize: o.resize, onProgress: progress('decoding images') });
      } catch (e) {
        // An image inside: name the archive and the entry.
        if (e instanceof DataFormatError && e.file !== zips[0].path && zips.length === 1) {
          throw new DataFormatError(zips[0].path, `entry ${JSON.stringify(e.file)}: ${e.reason}`, { cause: e });
        }
        throw e;
      }
      out = { data, split: folderSplitText(data) };
      break;
    }
    case 'image-folder': {
      const data = await imageFolderToTrainTest(files, decode, { source, resize: o.resize, onProgress: progress('decoding images') });
      out = { data, split: folderSplitText(data) };
      break;
    }
  }
  let { train, test } = out.data;
  if (o.resize && kind !== 'zip' && kind !== 'image-folder') {
    train = resizeDataset(train, o.resize[0], o.resize[1]);
    test = resizeDataset(test, o.resize[0], o.resize[1]);
  }
  for (const ds of [train, test]) {
    try {
      validateDataset(ds);
    } catch (e) {
      throw new DataFormatError(source, (e as Error).message, { cause: e });
    }
  }
  if (train.count === 0) throw new DataFormatError(source, 'has no training images');
  o.onProgress?.(1, 1, `${fmt(train.count)} train / ${fmt(test.count)} test images`);
  return { data: { train, test, source }, kind, split: out.split };
}
