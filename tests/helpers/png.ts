/**
 * PNG files for tests, written and read with node:zlib (no image library): an encoder for 8-bit grey
 * and RGB images, and a decoder for the 8-bit, non-interlaced grey / RGB / grey+alpha / RGBA PNGs
 * (all five filters) that the tests inject where the page uses the browser's decoder. The decoder
 * throws on anything it cannot decode, like a real one.
 */
import { deflateSync, inflateSync } from 'node:zlib';
import { crc32 } from '../../src/data/crc32.ts';
import type { ImageDecoder } from '../../src/data/image-folder.ts';

export function pngChunk(type: string, data: Uint8Array): Uint8Array {
  const out = new Uint8Array(12 + data.length);
  const v = new DataView(out.buffer);
  v.setUint32(0, data.length);
  for (let i = 0; i < 4; i++) out[4 + i] = type.charCodeAt(i);
  out.set(data, 8);
  v.setUint32(8 + data.length, crc32(out.subarray(4, 8 + data.length)));
  return out;
}

export const PNG_SIGNATURE = Uint8Array.from([137, 80, 78, 71, 13, 10, 26, 10]);

export function ihdr(w: number, h: number, depth = 8, colour = 0, interlace = 0): Uint8Array {
  const d = new Uint8Array(13);
  const v = new DataView(d.buffer);
  v.setUint32(0, w);
  v.setUint32(4, h);
  d.set([depth, colour, 0, 0, interlace], 8);
  return pngChunk('IHDR', d);
}

export const concatBytes = (...parts: Uint8Array[]): Uint8Array => {
  const out = new Uint8Array(parts.reduce((s, p) => s + p.length, 0));
  let o = 0;
  for (const p of parts) { out.set(p, o); o += p.length; }
  return out;
};

/** An 8-bit PNG of w x h; f gives the pixel's grey value, or [r, g, b] with rgb. */
export function makePng(w: number, h: number, f: (x: number, y: number) => number | number[], rgb = false): Uint8Array {
  const ch = rgb ? 3 : 1;
  const raw = new Uint8Array((w * ch + 1) * h);
  for (let y = 0; y < h; y++) {
    for (let x = 0; x < w; x++) {
      const v = f(x, y);
      const px = Array.isArray(v) ? v : [v, v, v];
      for (let c = 0; c < ch; c++) raw[y * (w * ch + 1) + 1 + x * ch + c] = px[c] & 255;
    }
  }
  return concatBytes(PNG_SIGNATURE, ihdr(w, h, 8, rgb ? 2 : 0), pngChunk('IDAT', deflateSync(raw)), pngChunk('IEND', new Uint8Array()));
}

/** Decodes the PNGs makePng writes (and any 8-bit non-interlaced grey/RGB/GA/RGBA PNG) to RGBA. */
export const decodeTestPng: ImageDecoder = async (b, name) => {
  const v = new DataView(b.buffer, b.byteOffset, b.byteLength);
  if (!PNG_SIGNATURE.every((x, i) => b[i] === x)) throw new Error(`${name}: not a PNG`);
  const w = v.getUint32(16), h = v.getUint32(20), depth = b[24], colour = b[25];
  const ch = ({ 0: 1, 2: 3, 4: 2, 6: 4 } as Record<number, number>)[colour];
  if (depth !== 8 || !ch || b[28] !== 0) throw new Error(`${name}: the test decoder reads only 8-bit non-interlaced grey/RGB(A) PNGs`);
  const idat: Uint8Array[] = [];
  for (let o = 8; o + 12 <= b.length;) {
    const len = v.getUint32(o);
    const t = String.fromCharCode(...b.subarray(o + 4, o + 8));
    if (t === 'IDAT') idat.push(b.subarray(o + 8, o + 8 + len));
    if (t === 'IEND') break;
    o += 12 + len;
  }
  const raw = inflateSync(concatBytes(...idat)); // throws on corrupt data
  const stride = w * ch;
  if (raw.length !== (stride + 1) * h) throw new Error(`${name}: image data is ${raw.length} bytes, expected ${(stride + 1) * h}`);
  const px = new Uint8Array(stride * h);
  for (let y = 0; y < h; y++) {
    const ft = raw[y * (stride + 1)];
    if (ft > 4) throw new Error(`${name}: bad filter type ${ft}`);
    for (let x = 0; x < stride; x++) {
      const r = raw[y * (stride + 1) + 1 + x];
      const a = x >= ch ? px[y * stride + x - ch] : 0;
      const up = y > 0 ? px[(y - 1) * stride + x] : 0;
      const c = x >= ch && y > 0 ? px[(y - 1) * stride + x - ch] : 0;
      const p = a + up - c, pa = Math.abs(p - a), pb = Math.abs(p - up), pc = Math.abs(p - c);
      const pred = [0, a, up, (a + up) >> 1, pa <= pb && pa <= pc ? a : pb <= pc ? up : c][ft];
      px[y * stride + x] = (r + pred) & 255;
    }
  }
  const rgba = new Uint8Array(w * h * 4);
  for (let k = 0; k < w * h; k++) {
    const s = px.subarray(k * ch, k * ch + ch);
    const [r, g, bl] = ch >= 3 ? [s[0], s[1], s[2]] : [s[0], s[0], s[0]];
    rgba.set([r, g, bl, ch === 2 ? s[1] : ch === 4 ? s[3] : 255], 4 * k);
  }
  return { width: w, height: h, rgba };
};
