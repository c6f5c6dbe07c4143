/**
 * Fuzzing PNG and JPEG images in class folders through the page's entry point: headers are read
 * before any pixel is decoded, so images over the size limit, bad signatures, truncated or damaged
 * headers, unsupported colour types, bit depths and precisions are refused with the file and the
 * reason, and without calling the decoder; seeded mutations never crash or hang.
 */
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
  it('reads the size of PNGs of every colour type and depth, up to the limit', () => {
    for (const [colour, depths] of [[0, [1, 2, 4, 8, 16]], [2, [8, 16]], [4, [8, 16]], [6, [8, 16]]] as const) {
      for (const d of depths) {
        const b = concatBytes(PNG_SIGNATURE, ihdr(31, 7, d, colour), pngChunk('IDAT', new Uint8Array(4)), pngChunk('IEND', new Uint8Array()));
        expect(readImageHeader(b, 'x.png')).toEqual({ format: 'PNG', width: 31, height: 7 });
      }
    }
    const side = LIMITS.imageSide;
    const at = concatBytes(PNG_SIGNATURE, ihdr(side, side), pngChunk('IDAT', new Uint8Array(4)), pngChunk('IEND', new Uint8Array()));
    expect(readImageHeader(at, 'x.png')).toEqual({ format: 'PNG', width: side, height: side });
    expect(() => readImageHeader(concatBytes(PNG_SIGNATURE, ihdr(side + 1, 1), pngChunk('IDAT', new Uint8Array(4)), pngChunk('IEND', new Uint8Array())), 'x.png'))
      .toThrow(`x.png: is a ${side + 1}x1 PNG, over the limit`);
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
