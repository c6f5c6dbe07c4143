/**
 * A zip archive's table of contents, read and cross-checked without inflating anything: the end of
 * central directory record, every central directory entry, and every entry's local header. A data
 * set archive must be consistent: names that could escape a folder (.., absolute paths, drive
 * letters, NUL bytes), encrypted or symlink entries, unsupported methods, a central directory that
 * disagrees with the local headers, claims more than the file holds or is cut short, entries whose
 * data overlap (the trick of "overlapping" zip bombs), and claimed sizes over the limits are all
 * refused here, each with a message that names the archive and the entry.
 * Format: PKWARE APPNOTE 6.3.10, sections 4.3.7 (local header), 4.3.12 (central directory), 4.3.16 (EOCD).
 */
import { DataFormatError } from './errors.ts';
import { formatBytes } from './limits.ts';

export interface ZipLimits {
  /** Most bytes one entry may inflate to. */
  entryBytes: number;
  /** Most bytes all entries may inflate to together. */
  totalBytes: number;
  /** Most entries. */
  entries: number;
}

export interface ZipEntry {
  /** The name as stored (folders end with "/"). */
  name: string;
  isDir: boolean;
  /** 0 stored, 8 deflate. */
  method: number;
  crc: number;
  compressedSize: number;
  /** Inflated size, as claimed by the central directory (and the local header). */
  size: number;
  localOffset: number;
  /** Offset of the entry's (compressed) data, after its local header. */
  dataStart: number;
}

const SIG_EOCD = 0x06054b50;
const SIG_CENTRAL = 0x02014b50;
const SIG_LOCAL = 0x04034b50;
const SIG_ZIP64_LOCATOR = 0x07064b50;
const METHOD_NAMES: Record<number, string> = { 1: 'Shrink', 6: 'Implode', 9: 'Deflate64', 12: 'bzip2', 14: 'LZMA', 93: 'Zstandard', 95: 'XZ', 98: 'PPMd' };
const utf8 = new TextDecoder('utf-8');

export const quoteName = (name: string): string => JSON.stringify(name);

/** Why an entry name is unsafe to use as a path (null when it is fine). */
export function unsafeNameReason(raw: Uint8Array, name: string): string | null {
  if (raw.length === 0) return 'has an empty name';
  if (raw.includes(0)) return 'has a NUL byte in its name';
  const path = name.replace(/\\/g, '/');
  if (path.startsWith('/')) return 'has an absolute path as its name';
  if (/^[A-Za-z]:/.test(path)) return 'has a drive letter in its name';
  if (path.split('/').includes('..')) return 'has ".." in its path, which would point outside the archive\'s folder';
  return null;
}

function findEocd(b: Uint8Array, v: DataView, archive: string): number {
  if (b.length < 22) throw new DataFormatError(archive, `is truncated: ${b.length} bytes is too short for a zip archive`);
  const stop = Math.max(0, b.length - 22 - 0xffff);
  for (let p = b.length - 22; p >= stop; p--) {
    if (v.getUint32(p, true) === SIG_EOCD && p + 22 + v.getUint16(p + 20, true) === b.length) return p;
  }
  throw new DataFormatError(archive, 'has no end of central directory record: the archive is truncated or damaged');
}

/** Reads and checks the archive's directory; throws DataFormatError naming the archive (and entry). */
export function readZipDirectory(b: Uint8Array, archive: string, limits: ZipLimits): ZipEntry[] {
  const v = new DataView(b.buffer, b.byteOffset, b.byteLength);
  const eocd = findEocd(b, v, archive);
  const disk = v.getUint16(eocd + 4, true), cdDisk = v.getUint16(eocd + 6, true);
  const onDisk = v.getUint16(eocd + 8, true), count = v.getUint16(eocd + 10, true);
  const cdSize = v.getUint32(eocd + 12, true), cdOffset = v.getUint32(eocd + 16, true);
  if (count === 0xffff || cdSize === 0xffffffff || cdOffset === 0xffffffff || (eocd >= 20 && v.getUint32(eocd - 20, true) === SIG_ZIP64_LOCATOR)) {
    throw new DataFormatError(archive, `uses the ZIP64 extension (for archives over 4 GiB or 65 535 entries), which is over the limits for a data set archive`);
  }
  if (disk !== 0 || cdDisk !== 0 || onDisk !== count) throw new DataFormatError(archive, 'is one part of a multi-part (split) archive; join the parts into one .zip');
  if (count > limits.entries) throw new DataFormatError(archive, `has ${count} entries, over the limit of ${limits.entries}`);
  if (cdOffset + cdSize > eocd) {
    throw new DataFormatError(archive, `its central directory claims ${cdSize} bytes at offset ${cdOffset}, more than the file holds ` +
      `(the directory must end by offset ${eocd}): the archive is truncated or damaged`);
  }
  const cdEnd = cdOffset + cdSize;
  const entries: ZipEntry[] = [];
  const seen = new Set<string>();
  let total = 0;
  let p = cdOffset;
  for (let i = 0; i < count; i++) {
    if (p + 46 > cdEnd || v.getUint32(p, true) !== SIG_CENTRAL) {
      throw new DataFormatError(archive, `its central directory lists ${count} entries but entry ${i + 1} is missing or damaged (the directory is cut short)`);
    }
    const madeBy = v.getUint16(p + 4, true), flags = v.getUint16(p + 8, true), method = v.getUint16(p + 10, true);
    const crc = v.getUint32(p + 16, true), compressedSize = v.getUint32(p + 20, true), size = v.getUint32(p + 24, true);
    const nameLen = v.getUint16(p + 28, true), extraLen = v.getUint16(p + 30, true), commentLen = v.getUint16(p + 32, true);
    const diskStart = v.getUint16(p + 34, true), extAttr = v.getUint32(p + 38, true), localOffset = v.getUint32(p + 42, true);
    if (p + 46 + nameLen + extraLen + commentLen > cdEnd) {
      throw new DataFormatError(archive, `its central directory lists ${count} entries but entry ${i + 1} is cut short`);
    }
    const raw = b.subarray(p + 46, p + 46 + nameLen);
    const name = utf8.decode(raw);
    const at = `entry ${quoteName(name)}`;
    p += 46 + nameLen + extraLen + commentLen;
    const unsafe = unsafeNameReason(raw, name);
    if (unsafe) throw new DataFormatError(archive, `${at} ${unsafe}`);
    if (seen.has(name)) throw new DataFormatError(archive, `${at} appears twice`);
    seen.add(name);
    if (flags & 0x41 || method === 99) throw new DataFormatError(archive, `${at} is encrypted (password-protected); only unencrypted archives can be read`);
    if (madeBy >> 8 === 3 && ((extAttr >>> 16) & 0o170000) === 0o120000) {
      throw new DataFormatError(archive, `${at} is a symbolic link; a data set archive must hold the files themselves`);
    }
    if (method !== 0 && method !== 8) {
      throw new DataFormatError(archive, `${at} uses compression method ${method}${METHOD_NAMES[method] ? ` (${METHOD_NAMES[method]})` : ''}; only stored and deflate entries can be read`);
    }
    if (diskStart !== 0) throw new DataFormatError(archive, `${at} is in another part of a multi-part archive`);
    const isDir = name.endsWith('/') || name.endsWith('\\');
    if (isDir && size !== 0) throw new DataFormatError(archive, `${at} is a folder but claims ${size} bytes of data`);
    if (method === 0 && compressedSize !== size) {
      throw new DataFormatError(archive, `${at} is stored uncompressed but claims ${compressedSize} bytes stored and ${size} bytes of content`);
    }
    if (size > limits.entryBytes) {
      throw new DataFormatError(archive, `${at} claims ${formatBytes(size)} when inflated, over the limit of ${formatBytes(limits.entryBytes)} for one entry`);
    }
    total += size;
    if (total > limits.totalBytes) {
      throw new DataFormatError(archive, `its entries claim more than ${formatBytes(limits.totalBytes)} together when inflated, the limit for one archive`);
    }
    entries.push({ name, isDir, method, crc, compressedSize, size, localOffset, dataStart: -1 });
    checkLocalHeader(b, v, archive, entries[entries.length - 1], raw, flags, cdOffset);
  }
  if (p !== cdEnd) throw new DataFormatError(archive, `its central directory is ${cdSize} bytes but its ${count} entries take ${p - cdOffset}: the archive is damaged`);
  checkOverlaps(entries, archive);
  return entries;
}

function checkLocalHeader(b: Uint8Array, v: DataView, archive: string, e: ZipEntry, rawName: Uint8Array, flags: number, cdOffset: number): void {
  const at = `entry ${quoteName(e.name)}`;
  const o = e.localOffset;
  if (o + 30 > b.length) throw new DataFormatError(archive, `${at}: its local header (offset ${o}) is past the end of the file (${b.length} bytes)`);
  if (o + 30 > cdOffset) throw new DataFormatError(archive, `${at}: its local header (offset ${o}) lies inside the central directory`);
  if (v.getUint32(o, true) !== SIG_LOCAL) throw new DataFormatError(archive, `${at}: there is no local header at offset ${o}, where the central directory says it is`);
  const lFlags = v.getUint16(o + 6, true), lMethod = v.getUint16(o + 8, true);
  const nameLen = v.getUint16(o + 26, true), extraLen = v.getUint16(o + 28, true);
  if (o + 30 + nameLen > cdOffset) throw new DataFormatError(archive, `${at}: its local header (offset ${o}) runs into the central directory`);
  const lName = b.subarray(o + 30, o + 30 + nameLen);
  if (lName.length !== rawName.length || lName.some((x, i) => x !== rawName[i])) {
    throw new DataFormatError(archive, `the central directory names ${at} but its local header names ${quoteName(utf8.decode(lName))}`);
  }
  if ((lFlags & 0x41) !== (flags & 0x41) || lMethod !== e.method) {
    throw new DataFormatError(archive, `${at}: its local header and the central directory disagree on its compression or encryption`);
  }
  if (!(lFlags & 0x08)) {
    const lCrc = v.getUint32(o + 14, true), lComp = v.getUint32(o + 18, true), lSize = v.getUint32(o + 22, true);
    if (lCrc !== e.crc || lComp !== e.compressedSize || lSize !== e.size) {
      throw new DataFormatError(archive, `${at}: its local header and the central directory disagree on its sizes or CRC-32 ` +
        `(${lComp} / ${lSize} bytes vs ${e.compressedSize} / ${e.size})`);
    }
  }
  e.dataStart = o + 30 + nameLen + extraLen;
  const end = e.dataStart + e.compressedSize;
  if (end > b.length) throw new DataFormatError(archive, `${at}: its ${e.compressedSize} bytes of data run past the end of the file (${b.length} bytes): the archive is truncated`);
  if (end > cdOffset) throw new DataFormatError(archive, `${at}: its ${e.compressedSize} bytes of data run into the central directory`);
}

/** Entries must not share bytes: overlapping entries let a small file claim many times its size. */
function checkOverlaps(entries: ZipEntry[], archive: string): void {
  const byOffset = [...entries].sort((a, b) => a.localOffset - b.localOffset);
  for (let i = 1; i < byOffset.length; i++) {
    const a = byOffset[i - 1], b = byOffset[i];
    if (a.dataStart + a.compressedSize > b.localOffset) {
      throw new DataFormatError(archive, `entries ${quoteName(a.name)} and ${quoteName(b.name)} overlap (they share the same bytes), the pattern of a zip bomb`);
    }
  }
}
