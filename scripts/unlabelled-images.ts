/**
 * A folder of generated colour PNGs without class folders (unlabelled data for calibration and distillation QAT):
 * each image a random plane wave per channel plus noise, seeded, so a model's outputs differ per image.
 *   node --import tsx scripts/unlabelled-images.ts OUTDIR [--count N] [--size S]
 */
import { mkdir, writeFile } from 'node:fs/promises';
import { join, resolve } from 'node:path';
import { parseArgs } from 'node:util';
import { pathToFileURL } from 'node:url';
import { PNG } from 'pngjs';
import { createRng } from '../src/data/rng.ts';

/** Image i (size x size RGB) as PNG bytes. */
export function wavePng(i: number, size = 16): Uint8Array {
  const rng = createRng(1000 + i);
  const p = new PNG({ width: size, height: size });
  const wave = [0, 1, 2].map(() => ({ fx: rng.int(5) / 4, fy: rng.int(5) / 4, ph: rng.int(628) / 100, a: 60 + rng.int(60), b: 60 + rng.int(70) }));
  for (let y = 0; y < size; y++) {
    for (let x = 0; x < size; x++) {
      const k = 4 * (y * size + x);
      for (let c = 0; c < 3; c++) {
        const w = wave[c];
        p.data[k + c] = Math.max(0, Math.min(255, Math.round(w.b + w.a * Math.sin(w.fx * x + w.fy * y + w.ph) + rng.int(21) - 10)));
      }
      p.data[k + 3] = 255;
    }
  }
  return new Uint8Array(PNG.sync.write(p));
}

export async function writeUnlabelledImages(dir: string, count: number, size = 16): Promise<void> {
  await mkdir(dir, { recursive: true });
  for (let i = 0; i < count; i++) await writeFile(join(dir, `img${String(i).padStart(4, '0')}.png`), wavePng(i, size));
}

if (process.argv[1] && import.meta.url === pathToFileURL(resolve(process.argv[1])).href) {
  const { values, positionals } = parseArgs({ allowPositionals: true, options: { count: { type: 'string' }, size: { type: 'string' } } });
  if (positionals.length !== 1) {
    console.error('usage: node --import tsx scripts/unlabelled-images.ts OUTDIR [--count N] [--size S]');
    process.exit(2);
  }
  await writeUnlabelledImages(positionals[0], Number(values.count ?? 60), Number(values.size ?? 16));
}
