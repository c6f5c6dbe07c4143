/**
 * .zip archives: the files inside, as InputFiles with their paths in the archive. The directory is
 * read and checked first (zip-directory.ts: names, consistency, claimed sizes against LIMITS) so that
 * nothing is inflated from an archive that will be refused; then each entry is inflated (fflate's
 * streaming inflater, in small steps) into a buffer of exactly its claimed size, stopping as soon as
 * it produces more, and its CRC-32 is checked. Pure: usable from the page's worker and from Node.
 */
import { crc32 } from './crc32.ts';
import { inflateBounded } from './inflate-bounded.ts';
import { DataFormatError } from './errors.ts';
import type { InputFile } from './image-folder.ts';
import { LIMITS } from './limits.ts';
import { quoteName, readZipDirectory, type ZipEntry, type ZipLimits } from './zip-directory.ts';

export { readZipDirectory, type ZipEntry, type ZipLimits } from './zip-directory.ts';

export const ZIP_LIMITS: ZipLimits = Object.freeze({ entryBytes: LIMITS.zipEntryBytes, totalBytes: LIMITS.zipTotalBytes, entries: LIMITS.zipEntries });

export function isZip(bytes: Uint8Array): boolean {
  return bytes.length >= 4 && bytes[0] === 0x50 && bytes[1] === 0x4b && (bytes[2] === 3 || bytes[2] === 5) && (bytes[3] === 4 || bytes[3] === 6);
}

const hex32 = (n: number) => `0x${n.toString(16).padStart(8, '0')}`;

/** The inflated content of one entry, checked against its claimed size and CRC-32. */
export function inflateEntry(bytes: Uint8Array, e: ZipEntry, archive: string): Uint8Array {
  const at = `entry ${quoteName(e.name)}`;
  const data = bytes.subarray(e.dataStart, e.dataStart + e.compressedSize);
  let out: Uint8Array;
  if (e.method === 0) out = data.slice();
  else {
    const r = inflateBounded(data, e.size);
    if ('tooLong' in r) throw new DataFormatError(archive, `${at} inflates to more than the ${e.size} bytes its header claims (a zip bomb, or a damaged archive)`);
    if ('corrupt' in r) throw new DataFormatError(archive, `${at}: its deflate data is corrupt (${r.corrupt})`);
    if ('tooShort' in r) throw new DataFormatError(archive, `${at} inflates to ${r.tooShort} bytes but its header claims ${e.size}: the archive is damaged`);
    out = r.ok;
  }
  const actual = crc32(out);
  if (actual !== e.crc) throw new DataFormatError(archive, `${at} is damaged: its CRC-32 is ${hex32(actual)} but the archive records ${hex32(e.crc)}`);
  return out;
}

export interface UnzipOptions {
  limits?: Partial<ZipLimits>;
  onProgress?: (done: number, total: number) => void;
}

/**
 * The files of a zip (folders left out), each checked. Throws DataFormatError naming the archive (and
 * the entry) when it is not a zip, is inconsistent or damaged, or is over the limits.
 */
export function unzipFiles(bytes: Uint8Array, fileName: string, o: UnzipOptions = {}): InputFile[] {
  if (!isZip(bytes)) throw new DataFormatError(fileName, 'is not a zip archive (no "PK" signature at the start)');
  const entries = readZipDirectory(bytes, fileName, { ...ZIP_LIMITS, ...o.limits }).filter((e) => !e.isDir);
  return entries.map((e, i) => {
    const file = { path: e.name.replace(/\\/g, '/'), bytes: inflateEntry(bytes, e, fileName) };
    o.onProgress?.(i + 1, entries.length);
    return file;
  });
}
