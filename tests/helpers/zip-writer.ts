/**
 * A zip writer for tests that can lie: every field of the local headers, the central directory and
 * the end record can be overridden, so hostile archives (traversal names, mismatched directories,
 * wrong CRCs, overlapping entries, bombs) are built byte by byte.
 */
import { deflateSync } from 'fflate';
import { crc32 } from '../../src/data/crc32.ts';

export interface ZipSpec {
  name: string | Uint8Array;
  /** The content (before compression). */
  data?: Uint8Array;
  method?: 0 | 8 | number;
  /** Overrides: the stored bytes, the CRC, sizes, flags and attributes as written. */
  stored?: Uint8Array;
  crc?: number;
  size?: number;
  compressedSize?: number;
  flags?: number;
  madeBy?: number;
  extAttr?: number;
  /** A different name in the local header than in the central directory. */
  localName?: string;
  /** Where the central directory says the local header is (default: where it is). */
  localOffset?: number;
}

export interface ZipLies {
  /** Entries the end record claims (default: the real count). */
  count?: number;
  /** Central directory entries left out of the directory (from the end). */
  dropFromDirectory?: number;
  cdSize?: number;
  cdOffset?: number;
}

const enc = new TextEncoder();

export function buildZip(specs: ZipSpec[], lies: ZipLies = {}): Uint8Array {
  const parts: Uint8Array[] = [];
  const central: Uint8Array[] = [];
  let offset = 0;
  specs.forEach((s, i) => {
    const name = typeof s.name === 'string' ? enc.encode(s.name) : s.name;
    const data = s.data ?? new Uint8Array();
    const method = s.method ?? 8;
    const stored = s.stored ?? (method === 8 ? deflateSync(data) : data);
    const crc = s.crc ?? crc32(data);
    const size = s.size ?? data.length;
    const csize = s.compressedSize ?? stored.length;
    const flags = s.flags ?? 0x800;
    const lname = s.localName !== undefined ? enc.encode(s.localName) : name;
    const local = new Uint8Array(30 + lname.length);
    const lv = new DataView(local.buffer);
    lv.setUint32(0, 0x04034b50, true);
    lv.setUint16(4, 20, true);
    lv.setUint16(6, flags, true);
    lv.setUint16(8, method, true);
    lv.setUint32(14, crc, true);
    lv.setUint32(18, csize, true);
    lv.setUint32(22, size, true);
    lv.setUint16(26, lname.length, true);
    local.set(lname, 30);
    const cd = new Uint8Array(46 + name.length);
    const cv = new DataView(cd.buffer);
    cv.setUint32(0, 0x02014b50, true);
    cv.setUint16(4, s.madeBy ?? 0x031e, true);
    cv.setUint16(6, 20, true);
    cv.setUint16(8, flags, true);
    cv.setUint16(10, method, true);
    cv.setUint32(16, crc, true);
    cv.setUint32(20, csize, true);
    cv.setUint32(24, size, true);
    cv.setUint16(28, name.length, true);
    cv.setUint32(38, s.extAttr ?? (0o100644 << 16) >>> 0, true);
    cv.setUint32(42, s.localOffset ?? offset, true);
    cd.set(name, 46);
    parts.push(local, stored);
    offset += local.length + stored.length;
    if (i < specs.length - (lies.dropFromDirectory ?? 0)) central.push(cd);
  });
  const cdBytes = central.reduce((a, c) => a + c.length, 0);
  const end = new Uint8Array(22);
  const ev = new DataView(end.buffer);
  ev.setUint32(0, 0x06054b50, true);
  ev.setUint16(8, lies.count ?? specs.length, true);
  ev.setUint16(10, lies.count ?? specs.length, true);
  ev.setUint32(12, lies.cdSize ?? cdBytes, true);
  ev.setUint32(16, lies.cdOffset ?? offset, true);
  const out = new Uint8Array(offset + cdBytes + 22);
  let o = 0;
  for (const p of [...parts, ...central, end]) { out.set(p, o); o += p.length; }
  return out;
}
