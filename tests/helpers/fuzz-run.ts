/**
 * Runs a hostile drop through the page's own entry point (the decode worker's host, createDecodeHost,
 * with the files as Blobs, exactly as the page posts them) and reports the verdict, the time it took
 * and how often the image decoder was called.
 */
import { expect } from 'vitest';
import type { TrainTestData } from '../../src/data/dataset.ts';
import { validateDataset } from '../../src/data/dataset.ts';
import type { DecodeMessage } from '../../src/data/decode-protocol.ts';
import { createDecodeHost } from '../../src/data/decode.worker.ts';
import type { ImageDecoder, InputFile } from '../../src/data/image-folder.ts';
import type { HostileCase } from './hostile-files.ts';
import { decodeTestPng } from './png.ts';

export type Verdict = { verdict: 'accept'; data: TrainTestData } | { verdict: 'refuse'; file: string; message: string };

export async function throughPage(files: InputFile[], source = files.length === 1 ? files[0].path : 'dropped'): Promise<Verdict & { ms: number; decodes: number }> {
  let decodes = 0;
  const decodeImage: ImageDecoder = (b, n) => { decodes++; return decodeTestPng(b, n); };
  const posted: DecodeMessage[] = [];
  const handle = createDecodeHost({ post: (m) => posted.push(m), decodeImage });
  const t0 = performance.now();
  await handle({ type: 'decode', id: 1, files: files.map((f) => ({ path: f.path, blob: new Blob([f.bytes as Uint8Array<ArrayBuffer>]) })), resize: null, source });
  const ms = performance.now() - t0;
  const last = posted[posted.length - 1];
  if (last?.type === 'decoded' && last.data) return { verdict: 'accept', data: last.data, ms, decodes };
  if (last?.type === 'failed') return { verdict: 'refuse', file: last.file, message: last.message, ms, decodes };
  throw new Error(`the decode host posted no verdict (last message: ${JSON.stringify(last)})`);
}

/** A hang is anything over 5 s. */
export const HANG_MS = 5000;

/** An accepted data set must be usable: consistent arrays, non-empty dimensions and splits. */
export function expectValidData(d: TrainTestData, what: string): void {
  for (const ds of [d.train, d.test]) {
    validateDataset(ds);
    expect(ds.channels * ds.height * ds.width, `${what}: ${ds.name} image size`).toBeGreaterThan(0);
  }
  expect(d.train.count, `${what}: train images`).toBeGreaterThan(0);
}

/** Checks a crafted case's verdict against its expectation: the file named, the message, no decoding when refused from headers. */
export async function expectVerdict(c: HostileCase): Promise<Verdict> {
  const v = await throughPage(c.files);
  expect(v.ms, `${c.id}: took ${v.ms.toFixed(0)} ms`).toBeLessThan(HANG_MS);
  if (c.expect === 'accept') {
    expect(v.verdict === 'refuse' ? v.message : 'accepted', c.id).toBe('accepted');
    if (v.verdict === 'accept') expectValidData(v.data, c.id);
    return v;
  }
  expect(v.verdict, `${c.id} must be refused`).toBe('refuse');
  if (v.verdict === 'refuse') {
    expect(v.file, c.id).toMatch(typeof c.expect.file === 'string' ? new RegExp(`^${c.expect.file.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}$`) : c.expect.file);
    expect(v.message.startsWith(`${v.file}: `), `${c.id}: "${v.message}" names the file first`).toBe(true);
    expect(v.message, c.id).toMatch(c.expect.message);
    expect(v.message, `${c.id}: no internal names`).not.toMatch(/parseIdx|unzipSync|inflateSync|readImageHeader|decodeDropped|undefined|NaN|TypeError|RangeError/);
  }
  if (c.beforeDecoding) expect(v.decodes, `${c.id}: refused before decoding`).toBe(0);
  return v;
}

/** A mutated drop: a clean accept (usable data) or a refusal naming a dropped file, in time. */
export async function expectCleanVerdict(files: InputFile[], target: string, id: string, source?: string): Promise<Verdict['verdict']> {
  const v = await throughPage(files, source);
  expect(v.ms, `${id}: took ${v.ms.toFixed(0)} ms`).toBeLessThan(HANG_MS);
  if (v.verdict === 'accept') expectValidData(v.data, id);
  else {
    expect([target, source, ...files.map((f) => f.path)], `${id}: "${v.message}" names a dropped file`).toContain(v.file);
    expect(v.message.startsWith(`${v.file}: `) && v.message.length > v.file.length + 8, `${id}: "${v.message}"`).toBe(true);
    expect(v.message, `${id}: no internal errors`).not.toMatch(/undefined|NaN|TypeError|RangeError|is not a function|Cannot read/);
  }
  return v.verdict;
}
