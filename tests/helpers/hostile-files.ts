/**
 * Generated hostile data files for the fuzzing suite (tests/fuzz-*.test.ts) and the e2e: for every
 * format the page and the CLI read (IDX, CIFAR-10, zip, PNG, JPEG), valid samples, crafted files that
 * must be refused (each with the file its error must name and what the message must say), and seeded
 * mutations (truncations, bit flips, byte runs) whose verdict may go either way but must be a clean
 * accept or a DataFormatError naming the file.
 */
import { deflateSync as zlibSync, gzipSync } from 'node:zlib';
import { crc32Update } from '../../src/data/crc32.ts';
import type { InputFile } from '../../src/data/image-folder.ts';
import { concatBytes, ihdr, makePng, PNG_SIGNATURE, pngChunk } from './png.ts';
import { mulberry32 } from './random.ts';
import { buildZip, type ZipSpec } from './zip-writer.ts';

export interface HostileCase {
  id: string;
  files: InputFile[];
  /** 'accept', or the refusal: the file the error names and what its message says. */
  expect: 'accept' | { file: string | RegExp; message: RegExp };
  /** Refused from headers alone: the image decoder must never be called. */
  beforeDecoding?: boolean;
}

const refuse = (file: string | RegExp, message: RegExp) => ({ file, message });

// ---------- building blocks ----------

/** A big-endian IDX file: dtype 0x08 unless given, dims, then the body (or `body` bytes as given). */
export function idxBytes(dims: number[], body?: Uint8Array, dtype = 0x08): Uint8Array {
  const n = dims.reduce((a, b) => a * b, 1);
  const head = new Uint8Array(4 + 4 * dims.length);
  const v = new DataView(head.buffer);
  head.set([0, 0, dtype, dims.length]);
  dims.forEach((d, i) => v.setUint32(4 + 4 * i, d >>> 0));
  return concatBytes(head, body ?? new Uint8Array(n).map((_, i) => (i * 37) & 255));
}

const labelsOf = (n: number, mod = 10) => new Uint8Array(n).map((_, i) => i % mod);

/** A valid IDX set: train 20 and test 6 images of 7x5; gzipped with gz. */
export function idxSet(gz = false): InputFile[] {
  const f = (name: string, b: Uint8Array) => ({ path: name + (gz ? '.gz' : ''), bytes: gz ? new Uint8Array(gzipSync(b)) : b });
  return [
    f('train-images-idx3-ubyte', idxBytes([20, 7, 5])), f('train-labels-idx1-ubyte', idxBytes([20], labelsOf(20))),
    f('t10k-images-idx3-ubyte', idxBytes([6, 7, 5])), f('t10k-labels-idx1-ubyte', idxBytes([6], labelsOf(6))),
  ];
}

const withFile = (set: InputFile[], path: string, bytes: Uint8Array): InputFile[] => set.map((f) => (f.path === path ? { path, bytes } : f));

/** n CIFAR-10 records (label byte + 3072 planar pixels). */
export function cifarBytes(n: number, label = (i: number) => i % 10): Uint8Array {
  const b = new Uint8Array(n * 3073);
  for (let i = 0; i < n; i++) {
    b[i * 3073] = label(i);
    for (let k = 1; k < 3073; k++) b[i * 3073 + k] = (k * 7 + i) & 255;
  }
  return b;
}

/** Class folders a/ and b/ of 8x8 grey PNGs (3 each). */
export function pngFolder(prefix = ''): InputFile[] {
  const out: InputFile[] = [];
  for (const [k, c] of ['a', 'b'].entries()) for (let i = 0; i < 3; i++) out.push({ path: `${prefix}${c}/img${i}.png`, bytes: makePng(8, 8, (x, y) => (x * 13 + y * 7 + k * 90 + i) & 255) });
  return out;
}

/**
 * A raw deflate stream of n zero bytes, written directly (fixed Huffman: one literal, then matches of
 * 258 at distance 1), so a 256 MiB bomb is built in milliseconds without 256 MiB in memory.
 */
export function deflatedZeros(n: number): Uint8Array {
  const out = new Uint8Array(Math.ceil(((n / 258) * 13) / 8) + 600);
  let o = 0, acc = 0, bits = 0;
  const put = (v: number, len: number) => {
    acc |= v << bits;
    bits += len;
    while (bits >= 8) { out[o++] = acc & 255; acc >>>= 8; bits -= 8; }
  };
  const huff = (code: number, len: number) => {
    let r = 0;
    for (let i = 0; i < len; i++) r |= ((code >> i) & 1) << (len - 1 - i);
    put(r, len);
  };
  put(1, 1); // BFINAL
  put(1, 2); // fixed Huffman
  let left = n;
  if (left > 0) { huff(0x30, 8); left--; }
  while (left >= 258) { huff(0xc0 + 5, 8); huff(0, 5); left -= 258; } // length 258 (code 285), distance 1 (code 0)
  while (left-- > 0) huff(0x30, 8);
  huff(0, 7); // end of block
  if (bits) put(0, 8 - bits);
  return out.slice(0, o);
}

/** The CRC-32 of n zero bytes (for bombs whose CRC must be right), computed in 1 MiB steps. */
export function zerosCrc(n: number): number {
  const z = new Uint8Array(Math.min(n, 1 << 20));
  let c = 0;
  for (let left = n; left > 0; left -= z.length) c = crc32Update(c, left >= z.length ? z : z.subarray(0, left));
  return c;
}

const zipOfFolder = (extra: ZipSpec[] = [], files = pngFolder()): ZipSpec[] => [...files.map((f) => ({ name: f.path, data: f.bytes })), ...extra];
const zipCase = (id: string, specs: ZipSpec[], message: RegExp, lies = {}): HostileCase =>
  ({ id, files: [{ path: 'hostile.zip', bytes: buildZip(specs, lies) }], expect: refuse('hostile.zip', message), beforeDecoding: true });

// ---------- crafted cases, per format ----------

export function idxCases(): HostileCase[] {
  const set = idxSet();
  const gz = idxSet(true);
  const bigClaim = idxBytes([0x7fffffff, 28, 28], new Uint8Array(100));
  return [
    { id: 'valid IDX set', files: set, expect: 'accept' },
    { id: 'valid gzipped IDX set', files: gz, expect: 'accept' },
    { id: 'IDX images of 0 rows (64 x 0 x 28, body consistent)', files: withFile(withFile(withFile(set, 'train-images-idx3-ubyte', idxBytes([64, 0, 28])), 'train-labels-idx1-ubyte', idxBytes([64], labelsOf(64))), 't10k-images-idx3-ubyte', idxBytes([6, 7, 5])),
      expect: refuse('train-images-idx3-ubyte', /dimension 2 of \[64, 0, 28\] is 0/) },
    { id: 'IDX of 0 images', files: withFile(set, 't10k-images-idx3-ubyte', idxBytes([0, 7, 5])), expect: refuse('t10k-images-idx3-ubyte', /dimension 1 of \[0, 7, 5\] is 0/) },
    { id: 'IDX claiming 2^31 images in 100 bytes', files: withFile(set, 'train-images-idx3-ubyte', bigClaim), expect: refuse('train-images-idx3-ubyte', /need \d+ bytes but the file has 116 \(truncated\)/) },
    { id: 'IDX truncated header', files: withFile(set, 'train-images-idx3-ubyte', idxBytes([20, 7, 5]).subarray(0, 9)), expect: refuse('train-images-idx3-ubyte', /truncated header: 3 dimensions need 16 bytes, file has 9/) },
    { id: 'IDX bad magic', files: withFile(set, 'train-labels-idx1-ubyte', Uint8Array.from([1, 2, 8, 1, 0, 0, 0, 1, 0])), expect: refuse('train-labels-idx1-ubyte', /bad magic 0x01 0x02 0x08 0x01/) },
    { id: 'IDX trailing data', files: withFile(set, 'train-images-idx3-ubyte', concatBytes(idxBytes([20, 7, 5]), new Uint8Array(3))), expect: refuse('train-images-idx3-ubyte', /trailing data/) },
    { id: 'IDX labels out of range', files: withFile(set, 't10k-labels-idx1-ubyte', idxBytes([6], Uint8Array.from([0, 1, 2, 200, 4, 5]))), expect: refuse('t10k-labels-idx1-ubyte', /label 200 of item 3 out of range 0\.\.9/) },
    { id: 'IDX label count differs from image count', files: withFile(set, 'train-labels-idx1-ubyte', idxBytes([19], labelsOf(19))), expect: refuse('train-labels-idx1-ubyte', /19 labels but train-images-idx3-ubyte has 20 images/) },
    { id: 'gzip bomb: IDX header claims 2 GiB', files: withFile(gz, 'train-images-idx3-ubyte.gz', new Uint8Array(gzipSync(idxBytes([0x7fffffff, 1, 1], new Uint8Array(1 << 16)))).slice()),
      expect: refuse('train-images-idx3-ubyte.gz', /header claims 2 GiB of data, over the limit of 1 GiB/) },
    { id: 'gzip bomb: 64 MiB of zeros behind a 10-image header', files: withFile(gz, 't10k-images-idx3-ubyte.gz', new Uint8Array(gzipSync(concatBytes(idxBytes([10, 7, 5]), new Uint8Array(64 << 20))))),
      expect: refuse('t10k-images-idx3-ubyte.gz', /decompresses to more bytes than its IDX header's dimensions say \(366\): trailing data/) },
    { id: 'truncated gzip', files: withFile(gz, 'train-images-idx3-ubyte.gz', gz[0].bytes.subarray(0, gz[0].bytes.length - 12)), expect: refuse('train-images-idx3-ubyte.gz', /gzip data is corrupt or truncated/) },
  ];
}

export function cifarCases(): HostileCase[] {
  const ok = cifarBytes(20);
  const tar = new Uint8Array(1024);
  tar.set(new TextEncoder().encode('ustar'), 257);
  const f = (bytes: Uint8Array, path = 'data_batch_1.bin') => [{ path, bytes }];
  return [
    { id: 'valid CIFAR-10 batches', files: [...f(ok), ...f(cifarBytes(5), 'test_batch.bin')], expect: 'accept' },
    { id: 'empty batch', files: f(new Uint8Array()), expect: refuse('data_batch_1.bin', /is empty/) },
    { id: 'half a record', files: f(ok.subarray(0, 3073 * 2 + 1500)), expect: refuse('data_batch_1.bin', /not a whole number of 3073-byte records \(2 records and 1500 bytes left over\)/) },
    { id: 'label 10', files: f(cifarBytes(3, (i) => (i === 2 ? 10 : 1))), expect: refuse('data_batch_1.bin', /record 3 of 3 has label 10/) },
    { id: 'gzipped batch', files: f(new Uint8Array(gzipSync(ok))), expect: refuse('data_batch_1.bin', /gzip-compressed, not a CIFAR-10 batch/) },
    { id: 'tar archive named .bin', files: f(tar), expect: refuse('data_batch_1.bin', /tar archive, not a CIFAR-10 batch/) },
    { id: 'CIFAR-100 sized batch', files: f(new Uint8Array(3074 * 10)), expect: refuse('data_batch_1.bin', /CIFAR-100 records of 3074 bytes/) },
  ];
}

export function zipCases(): HostileCase[] {
  const png = makePng(8, 8, (x) => x * 20);
  const good = buildZip(zipOfFolder());
  const mib = 1 << 20;
  // Each entry's data reaches into the next one (the last stays inside the file's entries).
  const oneMib = deflatedZeros(mib), oneMibCrc = zerosCrc(mib);
  const overlapping: ZipSpec[] = Array.from({ length: 250 }, (_, i) =>
    ({ name: `c${i % 2}/x${i}.png`, stored: oneMib, size: mib, crc: oneMibCrc, compressedSize: oneMib.length + (i < 249 ? 200 : 0) }));
  const sixty = 60 * mib, sixtyStored = deflatedZeros(sixty), sixtyCrc = zerosCrc(sixty);
  const cases: HostileCase[] = [
    { id: 'valid zip of class folders', files: [{ path: 'ok.zip', bytes: good }], expect: 'accept' },
    zipCase('entry name with ..', zipOfFolder([{ name: '../evil/a.png', data: png }]), /entry "\.\.\/evil\/a\.png" has "\.\." in its path/),
    zipCase('entry name with .. inside', zipOfFolder([{ name: 'a/../../b/x.png', data: png }]), /entry "a\/\.\.\/\.\.\/b\/x\.png" has "\.\." in its path/),
    zipCase('absolute entry name', zipOfFolder([{ name: '/etc/a/x.png', data: png }]), /entry "\/etc\/a\/x\.png" has an absolute path as its name/),
    zipCase('drive letter', zipOfFolder([{ name: 'C:\\data\\a\\x.png', data: png }]), /entry "C:\\\\data\\\\a\\\\x\.png" has a drive letter in its name/),
    zipCase('NUL byte in a name', zipOfFolder([{ name: 'a/x\0.png', data: png }]), /has a NUL byte in its name/),
    zipCase('central directory name differs from the local header', zipOfFolder([{ name: 'a/x.png', localName: 'a/evil.png', data: png }]),
      /the central directory names entry "a\/x\.png" but its local header names "a\/evil\.png"/),
    zipCase('half of the central directory missing', zipOfFolder(), /lists 6 entries but entry 4 is missing or damaged/, { dropFromDirectory: 3 }),
    zipCase('central directory claims 2 GiB', zipOfFolder(), /central directory claims 2147483648 bytes at offset \d+, more than the file holds/, { cdSize: 0x80000000 }),
    zipCase('CRC-32 mismatch', zipOfFolder([{ name: 'a/bad.png', data: png, crc: 0x12345678 }]), /entry "a\/bad\.png" is damaged: its CRC-32 is 0x[0-9a-f]{8} but the archive records 0x12345678/),
    zipCase('encrypted entry', zipOfFolder([{ name: 'a/secret.png', data: png, flags: 0x801 }]), /entry "a\/secret\.png" is encrypted/),
    zipCase('symlink entry', zipOfFolder([{ name: 'a/link.png', data: new TextEncoder().encode('/etc/passwd'), method: 0, extAttr: (0o120777 << 16) >>> 0 }]), /entry "a\/link\.png" is a symbolic link/),
    zipCase('corrupt deflate data', zipOfFolder([{ name: 'a/broken.png', data: png, stored: Uint8Array.from({ length: 64 }, (_, i) => (i * 97 + 255) & 255) }]),
      /entry "a\/broken\.png": its deflate data is corrupt|entry "a\/broken\.png" inflates to/),
    zipCase('local header past the end of the file', zipOfFolder([{ name: 'a/far.png', data: png, localOffset: 0x7fff0000 }]), /entry "a\/far\.png": its local header \(offset 2147418112\) is past the end of the file/),
    zipCase('entry claiming 4 GiB', zipOfFolder([{ name: 'a/huge.png', data: png, size: 0xfffffffe }]), /entry "a\/huge\.png" claims 4 GiB when inflated, over the limit of 64 MiB for one entry/),
    zipCase('zip bomb: one 256 MiB entry', zipOfFolder([{ name: 'a/bomb.png', stored: deflatedZeros(256 * mib), size: 256 * mib, crc: zerosCrc(256 * mib) }]), /entry "a\/bomb\.png" claims 256 MiB when inflated, over the limit/),
    zipCase('zip bomb that lies: claims 1000 bytes, inflates to 256 MiB', zipOfFolder([{ name: 'a/liar.png', stored: deflatedZeros(256 * mib), size: 1000, crc: 0 }]), /entry "a\/liar\.png" inflates to more than the 1000 bytes its header claims/),
    zipCase('zip bomb: 250 overlapping 1 MiB entries', overlapping, /entries "c0\/x0\.png" and "c1\/x1\.png" overlap/),
    zipCase('zip bomb: 20 entries of 60 MiB (1.2 GiB together)', Array.from({ length: 20 }, (_, i) => ({ name: `a/z${i}.png`, stored: sixtyStored, size: sixty, crc: sixtyCrc })), /entries claim more than 1 GiB together when inflated/),
    zipCase('LZMA entry', zipOfFolder([{ name: 'a/l.png', data: png, method: 14, stored: png }]), /entry "a\/l\.png" uses compression method 14 \(LZMA\)/),
    zipCase('duplicate entry names', zipOfFolder([{ name: 'a/img0.png', data: png }]), /entry "a\/img0\.png" appears twice/),
    { id: 'truncated archive', files: [{ path: 'hostile.zip', bytes: good.subarray(0, good.length - 30) }], expect: refuse('hostile.zip', /has no end of central directory record: the archive is truncated/), beforeDecoding: true },
    { id: 'zip cut in half', files: [{ path: 'half.zip', bytes: good.subarray(0, good.length >> 1) }], expect: refuse('half.zip', /has no end of central directory record/), beforeDecoding: true },
    { id: 'zip holding no images', files: [{ path: 'text.zip', bytes: buildZip([{ name: 'README.txt', data: new TextEncoder().encode('hello') }]) }], expect: refuse('text.zip', /has no PNG or JPEG images/), beforeDecoding: true },
  ];
  return cases;
}

/** A PNG from chunks; `ihdrChunk` replaces the header. */
const pngOf = (ihdrChunk: Uint8Array, ...chunks: Uint8Array[]) => concatBytes(PNG_SIGNATURE, ihdrChunk, ...chunks);
const IDAT = pngChunk('IDAT', Uint8Array.from([0x78, 0x9c, 0x63, 0, 0, 0, 1, 0, 1]));
const IEND = pngChunk('IEND', new Uint8Array());

export function pngCases(): HostileCase[] {
  const good = makePng(8, 8, (x) => x * 20);
  const imgCase = (id: string, bytes: Uint8Array, message: RegExp, beforeDecoding = true): HostileCase =>
    ({ id, files: [...pngFolder(), { path: 'b/hostile.png', bytes }], expect: refuse('b/hostile.png', message), beforeDecoding });
  const badCrc = good.slice();
  badCrc[29] ^= 1;
  const idatAt = 33;
  const badIdatCrc = good.slice();
  badIdatCrc[badIdatCrc.length - 13] ^= 1;
  const corruptIdat = pngOf(ihdr(8, 8), pngChunk('IDAT', Uint8Array.from({ length: 40 }, (_, i) => (i * 53 + 7) & 255)), IEND);
  return [
    { id: 'valid PNG folder', files: pngFolder(), expect: 'accept' },
    imgCase('PNG claiming 10000 x 10000', pngOf(ihdr(10000, 10000), IDAT, IEND), /is a 10000x10000 PNG, over the limit of 4096x4096 pixels for one image \(refused before decoding\)/),
    imgCase('PNG with a bad signature', concatBytes(Uint8Array.from([0x89, 0x50, 0x4e, 0x47, 0x0a, 0x1a, 0x0a, 0]), good.subarray(8)), /damaged PNG signature/),
    imgCase('PNG truncated in its header', good.subarray(0, 20), /the PNG header is truncated: the file has 20 bytes/),
    imgCase('PNG colour type 5', pngOf(ihdr(8, 8, 8, 5), IDAT, IEND), /PNG colour type 5, which does not exist/),
    imgCase('PNG RGB with bit depth 4', pngOf(ihdr(8, 8, 4, 2), IDAT, IEND), /unsupported PNG bit depth 4 for colour type 2/),
    imgCase('PNG palette with bit depth 16', pngOf(ihdr(8, 8, 16, 3), IDAT, IEND), /unsupported PNG bit depth 16 for colour type 3/),
    imgCase('PNG header CRC wrong', badCrc, /the PNG header \(IHDR\) is damaged: its CRC-32 does not match/),
    imgCase('PNG of width 0', pngOf(ihdr(0, 8), IDAT, IEND), /header says the image is 0x8/),
    imgCase('PNG image data CRC wrong', badIdatCrc, new RegExp(`chunk "IDAT" at byte ${idatAt} does not match its CRC-32`)),
    imgCase('PNG cut short (no IEND)', good.subarray(0, good.length - 12), /the PNG data is truncated at byte \d+ \(no IEND chunk\)/),
    imgCase('PNG chunk length past the end', pngOf(ihdr(8, 8), pngChunk('IDAT', new Uint8Array(10)).subarray(0, 15)), /chunk "IDAT" at byte 33 claims 10 bytes, past the end of the file/),
    imgCase('PNG palette image without a palette', pngOf(ihdr(8, 8, 8, 3), IDAT, IEND), /palette image without a palette/),
    imgCase('PNG without image data', pngOf(ihdr(8, 8), IEND), /no image data \(no IDAT chunk\)/),
    imgCase('PNG with corrupt compressed data (intact chunks)', corruptIdat, /the PNG image data is corrupt/),
    imgCase('PNG with a corrupt deflate stream inside a valid zlib header', pngOf(ihdr(8, 8), pngChunk('IDAT', Uint8Array.from([0x78, 0x9c, 0xff, 0xff, 0xff, 0xff, 0, 1, 2, 3])), IEND),
      /the PNG image data is corrupt \(its compressed stream is invalid: /),
    imgCase('PNG image data of a smaller image', pngOf(ihdr(8, 8), pngChunk('IDAT', zlibSync(new Uint8Array(9 * 4))), IEND), /the PNG image data is cut short: 36 of the 72 bytes a 8x8 image/),
    imgCase('PNG image data of a larger image', pngOf(ihdr(8, 8), pngChunk('IDAT', zlibSync(new Uint8Array(9 * 800))), IEND), /the PNG image data holds more than the 72 bytes a 8x8 image/),
    imgCase('PNG row with filter type 7', pngOf(ihdr(8, 8), pngChunk('IDAT', zlibSync(new Uint8Array(72).map((_, i) => (i === 27 ? 7 : 0)))), IEND), /row 4 has filter type 7 \(0 to 4 exist\)/),
    imgCase('PNG the decoder rejects (an interlaced one, which the test decoder does not read)', pngOf(ihdr(8, 8, 8, 0, 1), pngChunk('IDAT', zlibSync(new Uint8Array(2 + 2 + 3 + 6 + 10 + 20 + 36))), IEND),
      /is a 8x8 PNG whose image data is corrupt or unsupported \(the decoder said: /, false),
    imgCase('not an image at all', new TextEncoder().encode('<html>not found</html>'), /is not a PNG or JPEG image: bad signature 3c 68 74 6d/),
    imgCase('empty image file', new Uint8Array(), /is empty \(0 bytes\)/),
  ];
}

/** A JPEG from segments: SOI, the given segments, then (unless cut) a scan and EOI. */
function jpeg(segments: Uint8Array[], { scan = true, eoi = true } = {}): Uint8Array {
  const sos = Uint8Array.from([0xff, 0xda, 0, 8, 1, 1, 0, 0, 63, 0]);
  return concatBytes(Uint8Array.from([0xff, 0xd8]), ...segments, ...(scan ? [sos, Uint8Array.from([0x12, 0x34, 0x56])] : []), ...(eoi ? [Uint8Array.from([0xff, 0xd9])] : []));
}
const sof = (w: number, h: number, { marker = 0xc0, precision = 8, comps = 1 } = {}) => {
  const len = 8 + 3 * comps;
  const b = new Uint8Array(2 + len);
  b.set([0xff, marker, len >> 8, len & 255, precision, h >> 8, h & 255, w >> 8, w & 255, comps]);
  for (let c = 0; c < comps; c++) b.set([c + 1, 0x11, 0], 10 + 3 * c);
  return b;
};
const APP0 = Uint8Array.from([0xff, 0xe0, 0, 16, 0x4a, 0x46, 0x49, 0x46, 0, 1, 1, 0, 0, 1, 0, 1, 0, 0]);

export function jpegCases(): HostileCase[] {
  const c = (id: string, bytes: Uint8Array, message: RegExp): HostileCase => ({ id, files: [...pngFolder(), { path: 'b/hostile.jpg', bytes }], expect: refuse('b/hostile.jpg', message), beforeDecoding: true });
  return [
    c('JPEG claiming 10000 x 10000', jpeg([APP0, sof(10000, 10000)]), /is a 10000x10000 JPEG, over the limit of 4096x4096 pixels for one image \(refused before decoding\)/),
    c('JPEG truncated in its data (no EOI)', jpeg([APP0, sof(8, 8)], { eoi: false }), /the JPEG data is truncated: there is no end-of-image \(EOI\) marker/),
    c('JPEG truncated in its header', jpeg([APP0, sof(8, 8)]).subarray(0, 12), /the JPEG header is truncated/),
    c('JPEG of 12-bit precision', jpeg([sof(8, 8, { precision: 12 })]), /is a 12-bit JPEG; only 8-bit JPEGs are supported/),
    c('JPEG with 2 components', jpeg([sof(8, 8, { comps: 2 })]), /JPEG with 2 colour components/),
    c('JPEG of height 0 (DNL)', jpeg([sof(8, 0)]), /header says the image is 8x0/),
    c('JPEG with image data before its frame header', jpeg([APP0]), /image data \(SOS\) before its frame header \(SOF\)/),
    c('lossless JPEG', jpeg([sof(8, 8, { marker: 0xc3 })]), /lossless or hierarchical JPEG/),
    c('JPEG segment length past the end', concatBytes(Uint8Array.from([0xff, 0xd8, 0xff, 0xe1, 0x40, 0x00]), new Uint8Array(20)), /segment ff e1 at byte 2 claims 16384 bytes, past the end of the file/),
    c('JPEG of three bytes', Uint8Array.from([0xff, 0xd8, 0xff]), /the JPEG header is truncated at byte 2/),
    c('JPEG with garbage instead of a marker', concatBytes(Uint8Array.from([0xff, 0xd8]), APP0, Uint8Array.from([0x00, 0x11, 0x22])), /expected a marker at byte 20, found 00 11/),
  ];
}

// ---------- seeded mutations ----------

export type Mutation = (b: Uint8Array, r: () => number) => Uint8Array;
const ri = (r: () => number, n: number) => Math.floor(r() * n);

export const MUTATIONS: Record<string, Mutation> = {
  truncate: (b, r) => b.slice(0, ri(r, b.length)),
  flipBits: (b, r) => { const c = b.slice(); for (let k = 1 + ri(r, 8); k > 0; k--) c[ri(r, c.length)] ^= 1 << ri(r, 8); return c; },
  headerBytes: (b, r) => { const c = b.slice(); for (let k = 1 + ri(r, 4); k > 0; k--) c[ri(r, Math.min(c.length, 64))] = ri(r, 256); return c; },
  deleteRun: (b, r) => { const i = ri(r, b.length); return concatBytes(b.subarray(0, i), b.subarray(Math.min(b.length, i + 1 + ri(r, 64)))); },
  duplicateRun: (b, r) => { const i = ri(r, b.length); const p = b.subarray(i, Math.min(b.length, i + 1 + ri(r, 128))); return concatBytes(b.subarray(0, i), p, b.subarray(i)); },
  bigNumbers: (b, r) => { const c = b.slice(); const i = ri(r, Math.max(1, c.length - 4)); c.set([0xff, 0xff, 0xff, 0x7f].slice(0, c.length - i), i); return c; },
};

/** `count` mutated variants of `files`, each with one file mutated (by name, for the verdict). */
export function mutated(files: InputFile[], count: number, seed: number): { id: string; files: InputFile[]; target: string }[] {
  const r = mulberry32(seed);
  const names = Object.keys(MUTATIONS);
  return Array.from({ length: count }, (_, i) => {
    const m = names[i % names.length];
    const t = files[ri(r, files.length)];
    return { id: `${m} of ${t.path} #${i}`, target: t.path, files: files.map((f) => (f === t ? { path: f.path, bytes: MUTATIONS[m](f.bytes, r) } : f)) };
  });
}
