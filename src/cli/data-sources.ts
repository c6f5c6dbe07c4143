/**
 * The CLI's data sources that the page reads from dropped files: CIFAR-10 binary batches (cifar10:DIR), a folder of
 * class folders of PNG/JPEG images (folder:DIR) and a .zip of them (zip:FILE). The files are read from disk and
 * handed to the page's own loader (src/data/dropped.ts: the same parsing, split and errors), with the Node image
 * decoder (pngjs / jpeg-js) in place of createImageBitmap. Errors name the file on disk: paths inside a folder are
 * given relative to it to the loader (as a dropped folder's are) and joined back onto DIR in the message; paths
 * inside a zip are prefixed with the zip's path.
 */
import type { Dirent } from 'node:fs';
import { readdir, readFile, stat } from 'node:fs/promises';
import { join, relative, sep } from 'node:path';
import type { TrainTestData } from '../data/dataset.ts';
import { decodeDropped, type DecodedData } from '../data/dropped.ts';
import { DataFormatError } from '../data/errors.ts';
import { IMAGE_FILE, isIgnoredPath, type InputFile } from '../data/image-folder.ts';
import { nodeImageDecoder } from '../data/node-image-decoder.ts';
import { unzipFiles } from '../data/zip.ts';

export interface FileSourceOptions {
  /** [height, width] to resize every image to (--resize), else the images' own size. */
  resize: [number, number] | null;
  /** Decoding progress, e.g. for a progress line on stderr. */
  onProgress?: (done: number, total: number, stage: string) => void;
}

/** Every file under `root` (recursively), with its path relative to root ('/'-separated); hidden ones left out. */
async function listFiles(root: string): Promise<string[]> {
  const out: string[] = [];
  const walk = async (dir: string) => {
    let entries: Dirent[];
    try {
      entries = await readdir(dir, { withFileTypes: true });
    } catch (e) {
      throw new DataFormatError(dir, `cannot read the folder (${(e as Error).message})`, { cause: e });
    }
    for (const e of entries.sort((a, b) => a.name.localeCompare(b.name))) {
      const p = join(dir, e.name);
      const rel = relative(root, p).split(sep).join('/');
      if (isIgnoredPath(rel)) continue;
      if (e.isDirectory()) await walk(p);
      else if (e.isFile()) out.push(rel);
    }
  };
  await walk(root);
  return out;
}

async function readAll(root: string, rels: string[]): Promise<InputFile[]> {
  const files: InputFile[] = [];
  for (const rel of rels) {
    const buf = await readFile(join(root, rel));
    files.push({ path: rel, bytes: new Uint8Array(buf.buffer, buf.byteOffset, buf.byteLength) });
  }
  return files;
}

async function requireDir(dir: string, flag: string): Promise<void> {
  let isDir = false;
  try {
    isDir = (await stat(dir)).isDirectory();
  } catch (e) {
    throw new DataFormatError(dir, `cannot be read (${(e as Error).message}); --data ${flag}:DIR needs a folder`, { cause: e });
  }
  if (!isDir) throw new DataFormatError(dir, `is a file, not a folder; --data ${flag}:DIR needs a folder`);
}

/** Runs the page's loader; a DataFormatError about a file inside `base` is re-thrown naming it by its path on disk. */
async function decode(files: InputFile[], source: string, locate: (p: string) => string, o: FileSourceOptions): Promise<DecodedData> {
  try {
    return await decodeDropped(files, nodeImageDecoder, { source, resize: o.resize, onProgress: o.onProgress });
  } catch (e) {
    if (e instanceof DataFormatError && e.file !== source && files.some((f) => f.path === e.file)) {
      // The page's wording names its Resize switch; the CLI's is --resize.
      throw new DataFormatError(locate(e.file), e.reason.replace('turn on Resize', 'pass --resize HxW'), { cause: e });
    }
    throw e;
  }
}

/** cifar10:DIR: the CIFAR-10 binary batches in DIR (data_batch_1..5.bin and test_batch.bin, as in cifar-10-batches-bin/). */
export async function loadCifar10Dir(dir: string, o: FileSourceOptions): Promise<DecodedData> {
  await requireDir(dir, 'cifar10');
  const bins = (await readdir(dir)).filter((n) => /\.bin$/i.test(n) && !isIgnoredPath(n)).sort();
  if (bins.length === 0) {
    throw new DataFormatError(dir, 'has no CIFAR-10 binary batches (data_batch_1.bin .. data_batch_5.bin, test_batch.bin: ' +
      'the folder cifar-10-batches-bin of the binary version)');
  }
  return decode(await readAll(dir, bins), dir, (p) => join(dir, p), o);
}

/** folder:DIR: class folders of PNG/JPEG images under DIR (DIR/<class>/<image>.png, any depth above the image). */
export async function loadImageFolder(dir: string, o: FileSourceOptions): Promise<DecodedData> {
  await requireDir(dir, 'folder');
  const all = await listFiles(dir);
  const images = all.filter((p) => IMAGE_FILE.test(p));
  if (images.length === 0) {
    throw new DataFormatError(dir, `has no PNG or JPEG images in class subfolders (found ${all.length} other file${all.length === 1 ? '' : 's'})`);
  }
  // Only the images: other files in an image folder (notes, label lists) are not data, as the page ignores them.
  return decode(await readAll(dir, images), dir, (p) => join(dir, p), o);
}

/** zip:FILE: a .zip of class folders of PNG/JPEG images (or of any other file set the page reads). */
export async function loadZipFile(file: string, o: FileSourceOptions): Promise<DecodedData> {
  let bytes: Uint8Array;
  try {
    const s = await stat(file);
    if (s.isDirectory()) throw new DataFormatError(file, 'is a folder, not a .zip file (use --data folder:DIR for a folder)');
    const buf = await readFile(file);
    bytes = new Uint8Array(buf.buffer, buf.byteOffset, buf.byteLength);
  } catch (e) {
    if (e instanceof DataFormatError) throw e;
    throw new DataFormatError(file, `cannot be read (${(e as Error).message})`, { cause: e });
  }
  const inner = unzipFiles(bytes, file).filter((f) => !isIgnoredPath(f.path));
  if (inner.length === 0) throw new DataFormatError(file, 'is an empty zip archive (expected class folders of PNG/JPEG images)');
  return decode(inner, file, (p) => `${file}: ${p}`, o);
}

export type FileSourceKind = 'cifar10' | 'folder' | 'zip';

const LOADERS: Record<FileSourceKind, (path: string, o: FileSourceOptions) => Promise<DecodedData>> = {
  cifar10: loadCifar10Dir, folder: loadImageFolder, zip: loadZipFile,
};

export const FILE_SOURCE_KINDS = Object.keys(LOADERS) as FileSourceKind[];

export async function loadFileSource(kind: FileSourceKind, path: string, o: FileSourceOptions): Promise<TrainTestData & { split: string }> {
  const out = await LOADERS[kind](path, o);
  return { ...out.data, split: out.split };
}
