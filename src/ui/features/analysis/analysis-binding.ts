/**
 * What an analysis result belongs to, as a key: the float, calibrated and QAT checkpoints (hashed by content, so the
 * key survives a project reload), the data (name, split sizes, shape) and its preprocessing. A result whose key is not
 * the current one is never shown. Hashing is cached on the inputs' identities (the store changes far more often).
 */
import type { StudioState } from '../../store/studio-store.ts';

/** FNV-1a over the bytes (32-bit), with the length. */
function hashBytes(b: Uint8Array | null | undefined): string {
  if (!b) return '-';
  let h = 0x811c9dc5;
  for (let i = 0; i < b.length; i++) h = Math.imul(h ^ b[i], 0x01000193);
  return `${b.length}:${(h >>> 0).toString(16)}`;
}

let cache: { inputs: unknown[]; key: string } | null = null;

export function bindingKey(s: StudioState): string {
  const c = s.checkpoints, d = s.data.summary;
  const inputs = [c.float, c.calib, c.qat, d, s.data.prep];
  if (cache && cache.inputs.every((x, i) => x === inputs[i])) return cache.key;
  const data = d ? `${d.name}|${d.trainCount}|${d.testCount}|${d.shape.join('x')}` : '-';
  const key = [hashBytes(c.float), hashBytes(c.calib), hashBytes(c.qat), data, JSON.stringify(s.data.prep)].join('|');
  cache = { inputs, key };
  return key;
}
