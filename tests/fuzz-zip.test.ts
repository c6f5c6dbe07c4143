/**
 * Fuzzing zip archives through the page's entry point: traversal names, inconsistent or lying
 * directories, bad CRCs, encrypted / symlink / unsupported entries, corrupt deflate data and zip
 * bombs are each refused with the archive, the entry and the reason, before anything is inflated
 * where the header already tells; seeded mutations of a valid archive never crash or hang.
 */
import { execFileSync } from 'node:child_process';
import { describe, expect, it } from 'vitest';
import { DataFormatError } from '../src/data/errors.ts';
import { unzipFiles } from '../src/data/zip.ts';
import { expectCleanVerdict, expectVerdict } from './helpers/fuzz-run.ts';
import { mutated, pngFolder, zipCases } from './helpers/hostile-files.ts';
import { buildZip } from './helpers/zip-writer.ts';

describe('zip: crafted hostile archives', () => {
  for (const c of zipCases()) it(c.id, async () => { await expectVerdict(c); }, 20_000);
});

describe('zip: archives from other tools', () => {
  it('reads entries with folders, stored and deflated, exactly', () => {
    const files = pngFolder('set/');
    const zip = buildZip([{ name: 'set/', data: new Uint8Array(), method: 0 }, ...files.map((f, i) => ({ name: f.path, data: f.bytes, method: i % 2 ? 0 : 8 }))]);
    const out = unzipFiles(zip, 'set.zip');
    expect(out.map((f) => f.path)).toEqual(files.map((f) => f.path));
    out.forEach((f, i) => expect(f.bytes).toEqual(files[i].bytes));
  });
  it("reads Python's zipfile output, streamed (data descriptors) and not, stored and deflated, with folders", () => {
    const script = [
      'import io, sys, zipfile',
      'class Pipe(io.RawIOBase):', '    def writable(self): return True', '    def write(self, b): sys.stdout.buffer.write(b); return len(b)',
      'z = zipfile.ZipFile(Pipe(), "w")',
      'z.writestr(zipfile.ZipInfo("set/"), b"")',
      'z.writestr("set/a/one.txt", b"hello " * 1000, compress_type=zipfile.ZIP_DEFLATED)',
      'z.writestr("set/b/two.bin", bytes(range(256)) * 4, compress_type=zipfile.ZIP_STORED)',
      'with z.open("set/b/streamed.txt", "w") as f: f.write(b"streamed " * 500)',
      'z.close()',
    ].join('\n');
    const bytes = new Uint8Array(execFileSync('/usr/bin/python3', ['-c', script]));
    const out = unzipFiles(bytes, 'py.zip');
    expect(out.map((f) => f.path)).toEqual(['set/a/one.txt', 'set/b/two.bin', 'set/b/streamed.txt']);
    expect(new TextDecoder().decode(out[0].bytes)).toBe('hello '.repeat(1000));
    expect(out[1].bytes).toEqual(Uint8Array.from({ length: 1024 }, (_, i) => i & 255));
    expect(new TextDecoder().decode(out[2].bytes)).toBe('streamed '.repeat(500));
  });
  it('refuses a zip that is not one, naming it', () => {
    expect(() => unzipFiles(new Uint8Array([1, 2, 3, 4]), 'x.zip')).toThrow(DataFormatError);
    expect(() => unzipFiles(new Uint8Array([1, 2, 3, 4]), 'x.zip')).toThrow(/^x\.zip: is not a zip archive/);
  });
});

describe('zip: seeded mutations', () => {
  it('400 mutations of a zip of class folders', async () => {
    const good = { path: 'set.zip', bytes: buildZip(pngFolder().map((f) => ({ name: f.path, data: f.bytes }))) };
    const tally = { accept: 0, refuse: 0 };
    for (const m of mutated([good], 400, 0x21b)) tally[await expectCleanVerdict(m.files, m.target, m.id)]++;
    expect(tally.refuse, JSON.stringify(tally)).toBeGreaterThan(300);
  }, 120_000);
});
