/**
 * Fuzzing PNG and JPEG images in class folders through the page's entry point: headers are read
 * before any pixel is decoded, so images over the size limit, bad signatures, truncated or damaged
 * headers, unsupported colour types, bit depths and precisions are refused with the file and the
 * reason, and without calling the decoder; seeded mutations never crash or hang.
 */
import { deflateSync } from 'node:zlib';
import { describe, expect, it } from 'vitest';
import { readImageHeader } from '../src/data/image-header.ts';
import { LIMITS } from '../src/data/limits.ts';
import { expectCleanVerdict, expectVerdict } from './helpers/fuzz-run.ts';
import { jpegCases, mutated, pngCases, pngFolder } from './helpers/hostile-files.ts';
import { concatBytes, ihdr, makePng, PNG_SIGNATURE, pngChunk } from './helpers/png.ts';

describe('PNG: crafted hostile images', () => {
  for (const c of pngCases()) it(c.id, async () => { await expectVerdict(c); }, 20_000);
});

describe('JPEG: crafted hostile images', () => {
  for (const c of jpegCases()) it(c.id, async () => { await expectVerdict(c); }, 20_000);
});

describe('image headers', () => {
  /** A PNG of zero pixels with the right amount of image data for its type (interlaced: the 7 Adam7 passes). */
  const blank = (w: number, h: number, depth: number, colour: number, interlaced = false) => {
    const bits = depth * ({ 0: 1, 2: 3, 3: 1, 4: 2, 6: 4 } as Record<number, number>)[colour];
    const passes = interlaced ? [[0, 0, 8, 8], [4, 0, 8, 8], [0, 4, 4, 8], [2, 0, 4, 4], [0, 2, 2, 4], [1, 0, 2, 2], [0, 1, 1, 2]] : [[0, 0, 1, 1]];
    let size = 0;
    for (const [x0, y0, dx, dy] of passes) {
      const pw = w > x0 ? Math.ceil((w - x0) / dx) : 0, ph = h > y0 ? Math.ceil((h - y0) / dy) : 0;
      if (pw && ph) size += ph * (1 + Math.ceil((pw * bits) / 8));
    }
    const plte = colour === 3 ? [pngChunk('PLTE', new Uint8Array(6))] : [];
    return concatBytes(PNG_SIGNATURE, ihdr(w, h, depth, colour, interlaced ? 1 : 0), ...plte, pngChunk('IDAT', deflateSync(new Uint8Array(size))), pngChunk('IEND', new Uint8Array()));
  };
  it('reads the size of PNGs of every colour type and depth, interlaced or not, up to the limit', () => {
    for (const [colour, depths] of [[0, [1, 2, 4, 8, 16]], [2, [8, 16]], [3, [1, 2, 4, 8]], [4, [8, 16]], [6, [8, 16]]] as const) {
      for (const d of depths) {
        for (const interlaced of [false, true]) expect(readImageHeader(blank(31, 7, d, colour, interlaced), 'x.png')).toEqual({ format: 'PNG', width: 31, height: 7 });
      }
    }
    const side = LIMITS.imageSide;
    expect(readImageHeader(blank(side, side, 8, 0), 'x.png')).toEqual({ format: 'PNG', width: side, height: side });
    expect(() => readImageHeader(blank(side + 1, 1, 8, 0), 'x.png')).toThrow(`x.png: is a ${side + 1}x1 PNG, over the limit`);
  });
  it('mixed sizes are refused from the headers, before decoding', async () => {
    const files = [...pngFolder(), { path: 'b/big.png', bytes: makePng(9, 8, () => 0) }];
    await expectVerdict({ id: 'mixed sizes', files, expect: { file: 'b/big.png', message: /is 9x8 but a\/img0\.png is 8x8; turn on Resize/ }, beforeDecoding: true });
  });
});

describe('images: seeded mutations', () => {
  it('300 mutations of a PNG in a class folder', async () => {
    const files = pngFolder();
    const tally = { accept: 0, refuse: 0 };
    for (const m of mutated([files[4]], 300, 0x9e6)) tally[await expectCleanVerdict([...files.slice(0, 4), ...m.files, files[5]], m.target, m.id, 'images')]++;
    expect(tally.refuse, JSON.stringify(tally)).toBeGreaterThan(250);
  }, 120_000);
});
