/**
 * Child process of fuzz-memory.test.ts: loads the hostile inputs written by the test, warms up on valid
 * ones, then refuses every hostile input through the page's entry points and prints the peak resident
 * memory (getrusage maxRSS) above the baseline taken just before, as JSON. Run with --expose-gc.
 * maxRSS never decreases, so the final figure bounds the peak of every single refusal.
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { createDecodeHost } from '../../src/data/decode.worker.ts';
import type { DecodeMessage } from '../../src/data/decode-protocol.ts';
import { handleImport } from '../../src/ui/features/model/onnx-import.worker.ts';
import { decodeTestPng } from './png.ts';

interface Case { id: string; kind: 'drop' | 'onnx'; files: { path: string; file: string }[]; expectAccept?: boolean }

const dir = process.argv[2];
const cases: Case[] = JSON.parse(readFileSync(join(dir, 'cases.json'), 'utf8'));
const inputs = cases.map((c) => ({ ...c, bytes: c.files.map((f) => new Uint8Array(readFileSync(join(dir, f.file)))) }));
const gc = (globalThis as { gc?: () => void }).gc ?? (() => {});
const maxRss = () => process.resourceUsage().maxRSS * 1024;

async function run(c: (typeof inputs)[number]): Promise<string> {
  if (c.kind === 'onnx') {
    const r = handleImport({ id: 1, file: c.files[0].path, bytes: c.bytes[0], options: {} });
    return r.type;
  }
  const posted: DecodeMessage[] = [];
  const host = createDecodeHost({ post: (m) => posted.push(m), decodeImage: decodeTestPng });
  await host({ type: 'decode', id: 1, files: c.files.map((f, i) => ({ path: f.path, blob: new Blob([c.bytes[i] as Uint8Array<ArrayBuffer>]) })), resize: null, source: 'drop' });
  return posted[posted.length - 1].type;
}

const warm = inputs.filter((c) => c.expectAccept);
for (const c of warm) await run(c);
gc();
const baseline = maxRss();
const verdicts: Record<string, string> = {};
const inputBytes = Math.max(...inputs.filter((c) => !c.expectAccept).map((c) => c.bytes.reduce((s, b) => s + b.length, 0)));
for (const c of inputs.filter((x) => !x.expectAccept)) {
  verdicts[c.id] = await run(c);
  gc();
}
console.log(JSON.stringify({ baseline, peakAboveBaseline: maxRss() - baseline, largestInput: inputBytes, verdicts }));
