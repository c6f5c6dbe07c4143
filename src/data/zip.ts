/** .zip archives (fflate): the files inside, as InputFiles with their paths in the archive. */
import { unzipSync } from 'fflate';
import { DataFormatError } from './errors.ts';
import type { InputFile } from './image-folder.ts';

export function isZip(bytes: Uint8Array): boolean {
  return bytes.length >= 4 && bytes[0] === 0x50 && bytes[1] === 0x4b && (bytes[2] === 3 || bytes[2] === 5) && (bytes[3] === 4 || bytes[3] === 6);
}

/** The files of a zip (folders left out). Throws DataFormatError naming the archive when it is not one. */
export function unzipFiles(bytes: Uint8Array, fileName: string): InputFile[] {
  if (!isZip(bytes)) throw new DataFormatError(fileName, 'is not a zip archive (no "PK" signature at the start)');
  let entries: Record<string, Uint8Array>;
  try {
    entries = unzipSync(bytes);
  } catch (e) {
    throw new DataFormatError(fileName, `is a damaged zip archive (${(e as Error).message})`, { cause: e });
  }
  return Object.entries(entries).filter(([p]) => !p.endsWith('/')).map(([path, b]) => ({ path, bytes: b }));
}
