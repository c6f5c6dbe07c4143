/** Test data made in the e2e setup: PNG images (a minimal encoder), zips of class folders, CIFAR-10 batches. */
import { deflateSync } from 'node:zlib';
import { zipSync } from 'fflate';

const CRC = Array.from({ length: 256 }, (_, n) => {
  let c = n;
  for (let k = 0; k < 8; k++) c = c & 1 ? 0xedb88320 ^ (c >>> 1) : c >>> 1;
  return c >>> 0;
});
function crc32(b: Uint8Array): number {
  let c = 0xffffffff;
  for (const x of b) c = CRC[(c ^ x) & 255] ^ (c >>> 8);
  return (c ^ 0xffffffff) >>> 0;
}
function chunk(type: string, data: Uint8Array): Buffer {
  const head = Buffer.alloc(8);
  head.writeUInt32BE(data.length, 0);
  head.write(type, 4, 'ascii');
  const crc = Buffer.alloc(4);
  crc.writeUInt32BE(crc32(Buffer.concat([head.subarray(4), data])), 0);
  return Buffer.concat([head, data, crc]);
}

/** An 8-bit greyscale PNG of w x h whose pixel (x, y) is f(x, y). */
export function greyPng(w: number, h: number, f: (x: number, y: number) => number): Buffer {
  const ihdr = Buffer.alloc(13);
  ihdr.writeUInt32BE(w, 0);
  ihdr.writeUInt32BE(h, 4);
  ihdr.set([8, 0, 0, 0, 0], 8);
  const raw = Buffer.alloc((w + 1) * h);
  for (let y = 0; y < h; y++) for (let x = 0; x < w; x++) raw[y * (w + 1) + 1 + x] = f(x, y) & 255;
  return Buffer.concat([Buffer.from([137, 80, 78, 71, 13, 10, 26, 10]), chunk('IHDR', ihdr), chunk('IDAT', deflateSync(raw)), chunk('IEND', new Uint8Array())]);
}

/** Class folders of 28x28 PNGs: class k has a bright bar at row 4 + 8k. */
export function classImages(classes: string[], perClass: number, size = 28): Record<string, Buffer> {
  const out: Record<string, Buffer> = {};
  classes.forEach((c, k) => {
    for (let i = 0; i < perClass; i++) out[`${c}/img${i}.png`] = greyPng(size, size, (x, y) => (Math.abs(y - 4 - 8 * k) < 3 ? 220 : (x * 7 + i * 13) % 40));
  });
  return out;
}

export function zipOf(files: Record<string, Buffer>): Buffer {
  return Buffer.from(zipSync(Object.fromEntries(Object.entries(files).map(([p, b]) => [p, new Uint8Array(b)]))));
}

/** A CIFAR-10 binary batch: n records of 1 label byte + 3072 planar RGB bytes. */
export function cifarBatch(n: number, seed = 1): Buffer {
  const b = Buffer.alloc(n * 3073);
  for (let i = 0; i < n; i++) {
    const label = (i + seed) % 10;
    b[i * 3073] = label;
    for (let k = 0; k < 3072; k++) b[i * 3073 + 1 + k] = (k < 1024 ? label * 25 : k < 2048 ? 255 - label * 25 : (k * 3 + i) & 255);
  }
  return b;
}
