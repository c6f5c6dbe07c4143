/**
 * Memory while refusing: every crafted hostile file of every format (bombs included) is refused in a
 * child process whose peak resident memory (maxRSS) above its warmed-up baseline must stay below the
 * documented bound (docs/limits.md): twice the largest input plus 64 MiB. Without the checks before
 * allocating, the zip bombs alone would take 256 MiB and more, and a 10000x10000 image 400 MB.
 */
import { execFileSync } from 'node:child_process';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { cifarCases, idxCases, jpegCases, pngCases, zipCases, type HostileCase } from './helpers/hostile-files.ts';
import { onnxCases } from './helpers/hostile-onnx.ts';

const MiB = 1024 * 1024;

describe('memory while refusing hostile files', () => {
  it('stays below twice the largest input plus 64 MiB for every crafted case (bombs included)', () => {
    const dir = mkdtempSync(join(tmpdir(), 'qs-fuzz-mem-'));
    const cases: { id: string; kind: 'drop' | 'onnx'; files: { path: string; file: string }[]; expectAccept?: boolean }[] = [];
    let n = 0;
    const add = (id: string, kind: 'drop' | 'onnx', files: { path: string; bytes: Uint8Array }[], expectAccept = false) => {
      cases.push({ id, kind, expectAccept, files: files.map((f) => { const file = `f${n++}`; writeFileSync(join(dir, file), f.bytes); return { path: f.path, file }; }) });
    };
    const drops: HostileCase[] = [...idxCases(), ...cifarCases(), ...zipCases(), ...pngCases(), ...jpegCases()];
    for (const c of drops) add(c.id, 'drop', c.files, c.expect === 'accept');
    for (const c of onnxCases()) add(c.id, 'onnx', [{ path: 'hostile.onnx', bytes: c.bytes }]);
    writeFileSync(join(dir, 'cases.json'), JSON.stringify(cases));
    const out = execFileSync(process.execPath, ['--expose-gc', '--import', 'tsx', 'tests/helpers/refusal-peak.ts', dir], { encoding: 'utf8', timeout: 120_000 });
    const r = JSON.parse(out.trim().split('\n').pop()!) as { peakAboveBaseline: number; largestInput: number; verdicts: Record<string, string> };
    const refused = cases.filter((c) => !c.expectAccept);
    expect(Object.keys(r.verdicts).length).toBe(refused.length);
    for (const c of refused) expect(r.verdicts[c.id], c.id).toBe(c.kind === 'onnx' ? 'failed' : 'failed');
    const bound = 2 * r.largestInput + 64 * MiB;
    console.log(`refusing ${refused.length} hostile files: peak ${(r.peakAboveBaseline / MiB).toFixed(1)} MiB above the baseline; ` +
      `largest input ${(r.largestInput / MiB).toFixed(2)} MiB; bound ${(bound / MiB).toFixed(1)} MiB`);
    expect(r.peakAboveBaseline).toBeLessThan(bound);
  }, 180_000);
});
