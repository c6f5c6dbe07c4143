/**
 * PNG and JPEG headers, read before any pixel is decoded: the format (from the bytes, not the name),
 * width and height, and the structural problems a decoder would only report as "could not be decoded"
 * (a bad signature, a truncated or damaged header, an unsupported PNG colour type / bit depth or JPEG
 * precision, a file cut short). Dimensions over LIMITS are refused here, so a 10000 x 10000 image costs
 * a header read, not gigabytes. Specs: PNG (ISO/IEC 15948, W3C PNG 3rd ed.) chunks and IHDR; JPEG
 * (ITU T.81) markers and the SOFn frame header.
 */
import { concatBytes } from './bytes.ts';
import { crc32Update } from './crc32.ts';
import { DataFormatError } from './errors.ts';
import { inflateBounded } from './inflate-bounded.ts';
import { LIMITS } from './limits.ts';

export interface ImageHeader { format: 'PNG' | 'JPEG'; width: number; height: number }

const PNG_SIGNATURE = [0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a];
/** Allowed bit depths per PNG colour type. */
const PNG_DEPTHS: Record<number, number[]> = { 0: [1, 2, 4, 8, 16], 2: [8, 16], 3: [1, 2, 4, 8], 4: [8, 16], 6: [8, 16] };
const CRITICAL = new Set(['IHDR', 'PLTE', 'IDAT', 'IEND']);

const hexBytes = (b: Uint8Array) => [...b].map((x) => x.toString(16).padStart(2, '0')).join(' ');

function checkDimensions(file: string, format: string, width: number, height: number): void {
  if (width === 0 || height === 0) throw new DataFormatError(file, `its ${format} header says the image is ${width}x${height}: an image needs at least one pixel`);
  const side = LIMITS.imageSide;
  if (width > side || height > side || width * height > LIMITS.imagePixels) {
    throw new DataFormatError(file, `is a ${width}x${height} ${format}, over the limit of ${side}x${side} pixels for one image (refused before decoding)`);
  }
}

function pngHeader(b: Uint8Array, file: string): ImageHeader {
  if (b.length < 33) throw new DataFormatError(file, `the PNG header is truncated: the file has ${b.length} bytes, a PNG header needs 33`);
  const v = new DataView(b.buffer, b.byteOffset, b.byteLength);
  const type = (o: number) => String.fromCharCode(b[o + 4], b[o + 5], b[o + 6], b[o + 7]);
  if (v.getUint32(8) !== 13 || type(8) !== 'IHDR') throw new DataFormatError(file, `the PNG header is damaged: its first chunk must be a 13-byte IHDR, not "${type(8)}"`);
  const width = v.getUint32(16), height = v.getUint32(20);
  const depth = b[24], colour = b[25];
  if (crc32Update(0, b.subarray(12, 29)) !== v.getUint32(29)) throw new DataFormatError(file, 'the PNG header (IHDR) is damaged: its CRC-32 does not match');
  if (!PNG_DEPTHS[colour]) throw new DataFormatError(file, `has PNG colour type ${colour}, which does not exist (0, 2, 3, 4 and 6 do)`);
  if (!PNG_DEPTHS[colour].includes(depth)) {
    throw new DataFormatError(file, `has an unsupported PNG bit depth ${depth} for colour type ${colour} (allowed: ${PNG_DEPTHS[colour].join(', ')})`);
  }
  if (b[26] !== 0 || b[27] !== 0 || b[28] > 1) throw new DataFormatError(file, `has unknown PNG compression / filter / interlace methods ${b[26]} / ${b[27]} / ${b[28]}`);
  checkDimensions(file, 'PNG', width, height);
  // The chunks: every critical chunk whole and intact, at least one IDAT, a palette where needed, IEND at the end.
  let o = 33, idat = false, plte = false;
  for (;;) {
    if (o + 12 > b.length) throw new DataFormatError(file, `the PNG data is truncated at byte ${o} (no IEND chunk): the file is cut short`);
    const len = v.getUint32(o), t = type(o);
    if (len > b.length - o - 12) throw new DataFormatError(file, `the PNG data is truncated: chunk "${t}" at byte ${o} claims ${len} bytes, past the end of the file`);
    if (CRITICAL.has(t) && crc32Update(0, b.subarray(o + 4, o + 8 + len)) !== v.getUint32(o + 8 + len)) {
      throw new DataFormatError(file, `the PNG data is damaged: chunk "${t}" at byte ${o} does not match its CRC-32`);
    }
    if (t === 'IHDR') throw new DataFormatError(file, 'the PNG data is damaged: a second IHDR chunk');
    if (t === 'IDAT') idat = true;
    if (t === 'PLTE') plte = true;
    if (t === 'IEND') break;
    if (!/^[A-Za-z]{4}$/.test(t)) throw new DataFormatError(file, `the PNG data is damaged: a chunk at byte ${o} has the invalid type ${hexBytes(b.subarray(o + 4, o + 8))}`);
    o += 12 + len;
  }
  if (!idat) throw new DataFormatError(file, 'the PNG has no image data (no IDAT chunk)');
  if (colour === 3 && !plte) throw new DataFormatError(file, 'the PNG is a palette image without a palette (no PLTE chunk)');
  checkPngData(b, v, file, { width, height, depth, colour, interlaced: b[28] === 1 });
  return { format: 'PNG', width, height };
}

const PNG_CHANNELS: Record<number, number> = { 0: 1, 2: 3, 3: 1, 4: 2, 6: 4 };
const ADAM7 = [[0, 0, 8, 8], [4, 0, 8, 8], [0, 4, 4, 8], [2, 0, 4, 4], [0, 2, 2, 4], [1, 0, 2, 2], [0, 1, 1, 2]];

/**
 * The image data itself: the IDAT chunks' zlib stream must inflate to exactly the filtered rows the
 * header implies, each starting with a known filter type. Browsers only say "could not be decoded";
 * this says why. Inflation is bounded by the header's size (already within the limits).
 */
function checkPngData(b: Uint8Array, v: DataView, file: string, h: { width: number; height: number; depth: number; colour: number; interlaced: boolean }): void {
  const bits = h.depth * PNG_CHANNELS[h.colour];
  const rows: [number, number][] = []; // [row count, bytes per row] of each pass
  for (const [x0, y0, dx, dy] of h.interlaced ? ADAM7 : [[0, 0, 1, 1]]) {
    const pw = h.width > x0 ? Math.ceil((h.width - x0) / dx) : 0, ph = h.height > y0 ? Math.ceil((h.height - y0) / dy) : 0;
    if (pw && ph) rows.push([ph, 1 + Math.ceil((pw * bits) / 8)]);
  }
  const size = rows.reduce((s, [n, r]) => s + n * r, 0);
  const parts: Uint8Array[] = [];
  for (let o = 33; ;) {
    const len = v.getUint32(o), t = String.fromCharCode(b[o + 4], b[o + 5], b[o + 6], b[o + 7]);
    if (t === 'IDAT') parts.push(b.subarray(o + 8, o + 8 + len));
    if (t === 'IEND') break;
    o += 12 + len;
  }
  const z = parts.length === 1 ? parts[0] : concatBytes(parts);
  if (z.length < 2 || (z[0] & 0x0f) !== 8 || ((z[0] << 8) | z[1]) % 31 !== 0 || z[1] & 0x20) {
    throw new DataFormatError(file, 'the PNG image data is corrupt: it does not start with a zlib header');
  }
  const r = inflateBounded(z.subarray(2), size);
  const dims = `${h.width}x${h.height}`;
  if ('corrupt' in r) throw new DataFormatError(file, `the PNG image data is corrupt (its compressed stream is invalid: ${r.corrupt})`);
  if ('tooLong' in r) throw new DataFormatError(file, `the PNG image data holds more than the ${size} bytes a ${dims} image of this type has`);
  if ('tooShort' in r) throw new DataFormatError(file, `the PNG image data is cut short: ${r.tooShort} of the ${size} bytes a ${dims} image of this type has`);
  for (let o = 0, p = 0; p < rows.length; p++) {
    for (let y = 0; y < rows[p][0]; y++, o += rows[p][1]) {
      if (r.ok[o] > 4) throw new DataFormatError(file, `the PNG image data is corrupt: row ${y + 1}${h.interlaced ? ` of pass ${p + 1}` : ''} has filter type ${r.ok[o]} (0 to 4 exist)`);
    }
  }
}

/** SOFn markers: C0-CF except C4 (DHT), C8 (JPG) and CC (DAC). */
const isSof = (m: number) => m >= 0xc0 && m <= 0xcf && m !== 0xc4 && m !== 0xc8 && m !== 0xcc;

function jpegHeader(b: Uint8Array, file: string): ImageHeader {
  const v = new DataView(b.buffer, b.byteOffset, b.byteLength);
  let o = 2;
  let frame: ImageHeader | null = null;
  for (;;) {
    if (o + 2 > b.length) throw new DataFormatError(file, `the JPEG header is truncated at byte ${o}, before ${frame ? 'the image data' : 'the frame header (SOF) that gives its size'}`);
    if (b[o] !== 0xff) throw new DataFormatError(file, `the JPEG header is damaged: expected a marker at byte ${o}, found ${hexBytes(b.subarray(o, o + 2))}`);
    const m = b[o + 1];
    if (m === 0xff) { o++; continue; } // fill byte
    if (m === 0xd8 || m === 0x01 || (m >= 0xd0 && m <= 0xd7)) { o += 2; continue; } // markers without a length
    if (m === 0xd9) throw new DataFormatError(file, 'the JPEG ends (EOI marker) before any image data');
    if (o + 4 > b.length) throw new DataFormatError(file, `the JPEG header is truncated at byte ${o}`);
    const len = v.getUint16(o + 2);
    if (len < 2 || o + 2 + len > b.length) throw new DataFormatError(file, `the JPEG header is truncated: segment ${hexBytes(b.subarray(o, o + 2))} at byte ${o} claims ${len} bytes, past the end of the file`);
    if (isSof(m)) {
      if (len < 8) throw new DataFormatError(file, `the JPEG frame header (SOF) at byte ${o} is damaged: ${len} bytes`);
      if ([0xc3, 0xc5, 0xc6, 0xc7, 0xcb, 0xcd, 0xce, 0xcf].includes(m)) {
        throw new DataFormatError(file, `is a lossless or hierarchical JPEG (marker ${hexBytes(b.subarray(o, o + 2))}), which browsers do not decode`);
      }
      const precision = b[o + 4], height = v.getUint16(o + 5), width = v.getUint16(o + 7), comps = b[o + 9];
      if (precision !== 8) throw new DataFormatError(file, `is a ${precision}-bit JPEG; only 8-bit JPEGs are supported`);
      if (![1, 3, 4].includes(comps)) throw new DataFormatError(file, `is a JPEG with ${comps} colour components; 1 (grey), 3 (colour) or 4 (CMYK) are supported`);
      if (len !== 8 + 3 * comps) throw new DataFormatError(file, `the JPEG frame header (SOF) is damaged: ${len} bytes for ${comps} components`);
      checkDimensions(file, 'JPEG', width, height);
      frame = { format: 'JPEG', width, height };
    }
    if (m === 0xda) {
      if (!frame) throw new DataFormatError(file, 'the JPEG has image data (SOS) before its frame header (SOF): the header is damaged');
      // Entropy-coded data never holds FF D9 (FF is stuffed as FF 00): an EOI after this scan must exist.
      for (let p = b.length - 2; p > o; p--) if (b[p] === 0xff && b[p + 1] === 0xd9) return frame;
      throw new DataFormatError(file, 'the JPEG data is truncated: there is no end-of-image (EOI) marker after the image data');
    }
    o += 2 + len;
  }
}

/** Reads and checks the header of a PNG or JPEG image; throws DataFormatError naming the file and the problem. */
export function readImageHeader(bytes: Uint8Array, file: string): ImageHeader {
  if (bytes.length >= 8 && PNG_SIGNATURE.every((x, i) => bytes[i] === x)) return pngHeader(bytes, file);
  if (bytes.length >= 3 && bytes[0] === 0xff && bytes[1] === 0xd8 && bytes[2] === 0xff) return jpegHeader(bytes, file);
  if (bytes.length === 0) throw new DataFormatError(file, 'is empty (0 bytes)');
  if (bytes.length >= 4 && bytes[0] === 0x89 && bytes[1] === 0x50 && bytes[2] === 0x4e && bytes[3] === 0x47) {
    throw new DataFormatError(file, `has a damaged PNG signature (${hexBytes(bytes.subarray(0, 8))}; a PNG starts 89 50 4e 47 0d 0a 1a 0a): was it transferred as text?`);
  }
  if (bytes.length < 8 && bytes[0] === 0x89) throw new DataFormatError(file, `is truncated: ${bytes.length} bytes, shorter than a PNG signature`);
  throw new DataFormatError(file, `is not a PNG or JPEG image: bad signature ${hexBytes(bytes.subarray(0, 8))} (a PNG starts 89 50 4e 47, a JPEG ff d8 ff)`);
}
