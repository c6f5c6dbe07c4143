/**
 * Conformance runner (library): loads every `*.json` case of a directory (except index.json), dispatches on `kind`
 * through the registry and collects the results. The tolerances live in the kind runners (README of
 * shared/conformance: bit-exact except observer_histogram, qat_step and the marked outputs of
 * quantized_linear__12_requant_f32_vs_f64).
 */
import { readFile, readdir, stat } from 'node:fs/promises';
import { basename, join } from 'node:path';
import { runCase } from './registry.ts';
import type { CaseFile, CaseResult, ConformanceBackend } from './types.ts';

export interface RunOptions {
  /** Backends to run every case on (default ['cpu']). */
  backends?: ConformanceBackend[];
  /** Only cases of these kinds (default: every case in the directory, unknown kinds fail). */
  kinds?: string[];
}

export interface CaseOutcome {
  file: string;
  kind: string;
  name: string;
  backend: ConformanceBackend;
  result: CaseResult;
}

export interface RunSummary {
  dir: string;
  outcomes: CaseOutcome[];
  passed: number;
  failed: number;
}

/** The directory cannot be used (missing, not a directory, no case files). The CLI exits with code 2. */
export class BadCaseDirectoryError extends Error {}

/** Case files of a directory, sorted by name (index.json and non-.json files excluded). */
export async function listCaseFiles(dir: string): Promise<string[]> {
  let st;
  try {
    st = await stat(dir);
  } catch {
    throw new BadCaseDirectoryError(`${dir}: no such directory`);
  }
  if (!st.isDirectory()) throw new BadCaseDirectoryError(`${dir}: not a directory`);
  const files = (await readdir(dir)).filter((f) => f.endsWith('.json') && f !== 'index.json').sort();
  if (files.length === 0) throw new BadCaseDirectoryError(`${dir}: no *.json case files`);
  return files.map((f) => join(dir, f));
}

function isCaseFile(v: unknown): v is CaseFile {
  const c = v as CaseFile;
  return typeof v === 'object' && v !== null && typeof c.kind === 'string' && typeof c.inputs === 'object' && typeof c.expected === 'object';
}

/** Runs every case of `dir` (filtered by kinds) on every requested backend. */
export async function runConformance(dir: string, opts: RunOptions = {}): Promise<RunSummary> {
  const backends = opts.backends ?? ['cpu'];
  const kinds = opts.kinds ? new Set(opts.kinds) : undefined;
  const files = await listCaseFiles(dir);
  const outcomes: CaseOutcome[] = [];
  for (const path of files) {
    const file = basename(path);
    let c: CaseFile;
    try {
      const parsed: unknown = JSON.parse(await readFile(path, 'utf8'));
      if (!isCaseFile(parsed)) throw new Error('not a case file (needs kind, inputs, expected)');
      c = { ...parsed, params: parsed.params ?? {} };
    } catch (err) {
      const kind = file.split('__')[0];
      if (kinds && !kinds.has(kind)) continue;
      const error = `cannot read case: ${err instanceof Error ? err.message : String(err)}`;
      for (const backend of backends) outcomes.push({ file, kind, name: file, backend, result: { ok: false, mismatches: [], error } });
      continue;
    }
    if (kinds && !kinds.has(c.kind)) continue;
    for (const backend of backends) {
      const result = await runCase(c, { backend });
      outcomes.push({ file, kind: c.kind, name: c.name, backend, result });
    }
  }
  const passed = outcomes.filter((o) => o.result.ok).length;
  return { dir, outcomes, passed, failed: outcomes.length - passed };
}

/** One line per problem of a failed case: file, what differs, first index, both values, how many differ. */
export function formatFailure(o: CaseOutcome, showBackend = false): string[] {
  const tag = showBackend ? `${o.file} [${o.backend}]` : o.file;
  if (o.result.ok) return [];
  const lines: string[] = [];
  if (o.result.error) lines.push(`FAIL ${tag}: ${o.result.error}`);
  for (const m of o.result.mismatches) {
    if (m.index < 0) {
      lines.push(`FAIL ${tag}: ${m.output} differs: expected ${m.expected}, got ${m.actual}`);
    } else {
      lines.push(
        `FAIL ${tag}: ${m.output} differs at index ${m.index}: expected ${m.expected}, got ${m.actual} ` +
          `(${m.count} element${m.count === 1 ? '' : 's'} differ)`,
      );
    }
  }
  if (lines.length === 0) lines.push(`FAIL ${tag}: failed without details`);
  return lines;
}

/** Per-kind pass/fail counts. */
export function countsByKind(s: RunSummary): Map<string, { passed: number; failed: number }> {
  const m = new Map<string, { passed: number; failed: number }>();
  for (const o of s.outcomes) {
    const e = m.get(o.kind) ?? { passed: 0, failed: 0 };
    if (o.result.ok) e.passed++;
    else e.failed++;
    m.set(o.kind, e);
  }
  return m;
}
