/**
 * Project files (.qsproj): a zip with project.json (the snapshot, every Uint8Array replaced by
 * {"$bin": "bin/N"}) and the binaries under bin/. Export downloads one; import reads one back (through
 * the checked zip reader of data archives, with the project's own size limits).
 */
import { strFromU8, strToU8, zipSync } from 'fflate';
import { DataFormatError } from '../../data/errors.ts';
import { LIMITS } from '../../data/limits.ts';
import { unzipFiles } from '../../data/zip.ts';
import { validateSnapshot, type ProjectSnapshot } from './snapshot.ts';

/** A project holds at most one data set (LIMITS.datasetBytes) plus checkpoints and results. */
const PROJECT_ZIP_LIMITS = { entryBytes: LIMITS.datasetBytes, totalBytes: 2 * LIMITS.datasetBytes };

export const PROJECT_FILE_EXT = '.qsproj';

export function encodeProjectFile(snap: ProjectSnapshot): Uint8Array {
  const bins: Record<string, Uint8Array> = {};
  const json = JSON.stringify(snap, (_k, v: unknown) => {
    if (v instanceof Uint8Array) {
      const name = `bin/${Object.keys(bins).length}`;
      bins[name] = v;
      return { $bin: name };
    }
    return v;
  });
  return zipSync({ 'project.json': strToU8(json), ...bins }, { level: 1 });
}

export function decodeProjectFile(bytes: Uint8Array, fileName: string): ProjectSnapshot {
  let entries: Record<string, Uint8Array>;
  try {
    // The same checked reader as data archives: names, consistency, claimed sizes and CRCs before use.
    entries = Object.fromEntries(unzipFiles(bytes, fileName, { limits: PROJECT_ZIP_LIMITS }).map((f) => [f.path, f.bytes]));
  } catch (e) {
    throw new Error(`${fileName}: not a Quant Studio project file (${e instanceof DataFormatError ? e.reason : (e as Error).message})`);
  }
  const text = entries['project.json'];
  if (!text) throw new Error(`${fileName}: not a Quant Studio project file (no project.json inside)`);
  let parsed: unknown;
  try {
    parsed = JSON.parse(strFromU8(text), (_k, v: unknown) => {
      if (v && typeof v === 'object' && '$bin' in v) {
        const b = entries[(v as { $bin: string }).$bin];
        if (!b) throw new Error(`missing ${(v as { $bin: string }).$bin}`);
        return b;
      }
      return v;
    });
  } catch (e) {
    throw new Error(`${fileName}: corrupt project.json (${(e as Error).message})`);
  }
  return validateSnapshot(parsed, fileName);
}
