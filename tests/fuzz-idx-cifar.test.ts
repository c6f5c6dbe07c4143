/**
 * Fuzzing IDX and CIFAR-10 input through the page's entry point (the decode worker's host) and the
 * CLI's (loadIdxFolder): crafted hostile files get their expected refusal (file and reason), seeded
 * mutations of valid files are cleanly accepted or refused naming the file; nothing crashes or hangs.
 */
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { DataFormatError } from '../src/data/errors.ts';
import { loadIdxFolder } from '../src/data/idx.ts';
import { expectCleanVerdict, expectValidData, expectVerdict, HANG_MS } from './helpers/fuzz-run.ts';
import { cifarBytes, cifarCases, idxCases, idxSet, mutated } from './helpers/hostile-files.ts';

describe('IDX: crafted hostile files (page entry point)', () => {
  for (const c of idxCases()) it(c.id, async () => { await expectVerdict(c); }, 20_000);
});

describe('IDX: the CLI loader gives the same verdicts', () => {
  it('every crafted IDX case through loadIdxFolder', async () => {
    for (const c of idxCases()) {
      const dir = mkdtempSync(join(tmpdir(), 'qs-fuzz-idx-'));
      for (const f of c.files) writeFileSync(join(dir, f.path), f.bytes);
      const t0 = performance.now();
      const got = await loadIdxFolder(dir).then((d) => ({ ok: d }), (e: unknown) => ({ err: e }));
      expect(performance.now() - t0, c.id).toBeLessThan(HANG_MS);
      if (c.expect === 'accept') {
        expect('ok' in got, c.id).toBe(true);
        if ('ok' in got) expectValidData(got.ok, c.id);
      } else {
        expect('err' in got && got.err instanceof DataFormatError, `${c.id}: a DataFormatError`).toBe(true);
        const e = (got as { err: DataFormatError }).err;
        expect(e.file, c.id).toBe(join(dir, c.expect.file as string));
        expect(e.message.replaceAll(`${dir}/`, ''), c.id).toMatch(c.expect.message);
      }
    }
  }, 60_000);
});

describe('IDX and CIFAR-10: seeded mutations', () => {
  it('300 mutations of a raw and a gzipped IDX set', async () => {
    const tally = { accept: 0, refuse: 0 };
    for (const [k, set] of [idxSet(), idxSet(true)].entries()) {
      for (const m of mutated(set, 150, 0x1d + k)) tally[await expectCleanVerdict(m.files, m.target, m.id, 'idx')]++;
    }
    expect(tally.refuse, JSON.stringify(tally)).toBeGreaterThan(150);
  }, 120_000);
  it('200 mutations of CIFAR-10 batches', async () => {
    const tally = { accept: 0, refuse: 0 };
    const files = [{ path: 'data_batch_1.bin', bytes: cifarBytes(12) }, { path: 'test_batch.bin', bytes: cifarBytes(4) }];
    for (const m of mutated(files, 200, 0xc1f)) tally[await expectCleanVerdict(m.files, m.target, m.id, 'cifar')]++;
    expect(tally.refuse, JSON.stringify(tally)).toBeGreaterThan(100);
  }, 120_000);
});

describe('CIFAR-10: crafted hostile files', () => {
  for (const c of cifarCases()) it(c.id, async () => { await expectVerdict(c); }, 20_000);
});

describe('any dropped file over the read limit', () => {
  it('is refused from its size, without being read', async () => {
    const { createDecodeHost } = await import('../src/data/decode.worker.ts');
    const posted: { type: string; file?: string; message?: string }[] = [];
    let reads = 0;
    const host = createDecodeHost({ post: (m) => posted.push(m), decodeImage: async () => { throw new Error('not called'); }, readBlob: async () => { reads++; return new Uint8Array(); } });
    const huge = { size: 3 * 1024 ** 3 } as Blob; // a 3 GiB file, as the page's File would say
    await host({ type: 'decode', id: 1, files: [{ path: 'train-images-idx3-ubyte', blob: huge }], resize: null, source: 'drop' });
    expect(reads).toBe(0);
    expect(posted.at(-1)).toEqual({ type: 'failed', id: 1, file: 'train-images-idx3-ubyte', message: 'train-images-idx3-ubyte: is 3 GiB, over the limit of 1 GiB for one file' });
  });
});
