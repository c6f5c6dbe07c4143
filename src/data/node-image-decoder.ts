/**
 * The ImageDecoder of Node (the CLI): PNG with pngjs, JPEG with jpeg-js, both maintained pure-JS decoders; the page
 * uses createImageBitmap instead (decode.worker.ts). The format is told by the file's signature, not its name, like
 * the browser does. Both give RGBA bytes (grey PNGs as R = G = B, 16-bit PNGs rescaled to 8 bits), which is what
 * image-folder.ts expects. The image size is read from the header and checked before any pixel buffer is allocated.
 */
import jpeg from 'jpeg-js';
import { PNG } from 'pngjs';
import type { DecodedImage, ImageDecoder } from './image-folder.ts';
import { LIMITS } from './limits.ts';


const PNG_SIGNATURE = [0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a];

export function isPng(b: Uint8Array): boolean {
  return b.length >= 8 && PNG_SIGNATURE.every((v, i) => b[i] === v);
}

export function isJpeg(b: Uint8Array): boolean {
  return b.length >= 3 && b[0] === 0xff && b[1] === 0xd8 && b[2] === 0xff;
}

/** The decoder's own guard (the shared header checks of image-folder.ts normally refuse first): limits.ts's bounds. */
function checkSize(width: number, height: number): void {
  if (width === 0 || height === 0) throw new Error(`the header says ${width}x${height} pixels`);
  if (width > LIMITS.imageSide || height > LIMITS.imageSide || width * height > LIMITS.imagePixels) {
    throw new Error(`${width}x${height} pixels is over the limit of ${LIMITS.imageSide}x${LIMITS.imageSide} pixels for one image`);
  }
}

function decodePng(bytes: Uint8Array): DecodedImage {
  // IHDR is the first chunk: length (4), "IHDR" (4), width (4, big-endian), height (4).
  if (bytes.length < 24 || String.fromCharCode(...bytes.subarray(12, 16)) !== 'IHDR') throw new Error('PNG without an IHDR header');
  const v = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  checkSize(v.getUint32(16), v.getUint32(20));
  const png = PNG.sync.read(Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength));
  return { width: png.width, height: png.height, rgba: new Uint8Array(png.data.buffer, png.data.byteOffset, png.data.byteLength) };
}

/** The [width, height] of a JPEG's frame header (SOFn), found by walking the marker segments; null if none. */
export function jpegSize(b: Uint8Array): [number, number] | null {
  let o = 2;
  while (o + 9 < b.length) {
    if (b[o] !== 0xff) return null;
    const m = b[o + 1];
    if (m === 0xff) { o++; continue; } // fill byte
    if (m === 0xd8 || m === 0x01 || (m >= 0xd0 && m <= 0xd7)) { o += 2; continue; } // markers without a length
    const len = (b[o + 2] << 8) | b[o + 3];
    if (m >= 0xc0 && m <= 0xcf && m !== 0xc4 && m !== 0xc8 && m !== 0xcc) {
      return [(b[o + 7] << 8) | b[o + 8], (b[o + 5] << 8) | b[o + 6]];
    }
    if (m === 0xda) return null; // scan data before any frame header
    o += 2 + len;
  }
  return null;
}

function decodeJpeg(bytes: Uint8Array): DecodedImage {
  const size = jpegSize(bytes);
  if (size) checkSize(size[0], size[1]);
  // jpeg-js also enforces maxResolutionInMP before it allocates the image (the backstop if the walk found no header).
  const img = jpeg.decode(bytes, { useTArray: true, formatAsRGBA: true, maxResolutionInMP: Math.ceil(LIMITS.imagePixels / 1e6), maxMemoryUsageInMB: 1024 });
  checkSize(img.width, img.height);
  return { width: img.width, height: img.height, rgba: img.data };
}

/** Decodes PNG or JPEG bytes to RGBA; throws an Error saying what is wrong (image-folder.ts adds the file name). */
export const nodeImageDecoder: ImageDecoder = async (bytes) => {
  if (isPng(bytes)) return decodePng(bytes);
  if (isJpeg(bytes)) return decodeJpeg(bytes);
  const head = Array.from(bytes.subarray(0, 4), (b) => b.toString(16).padStart(2, '0')).join(' ');
  throw new Error(bytes.length === 0 ? 'the file is empty' : `neither PNG nor JPEG: the file starts with bytes ${head}`);
};
