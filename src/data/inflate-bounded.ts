/**
 * Inflating deflate data whose output size is known in advance (a zip entry's claimed size, a PNG's
 * image data from its header): fflate's streaming inflater is fed small steps of compressed input and
 * its output is copied into one buffer of exactly that size; more output stops it at once, so a bomb
 * costs at most one step's output (deflate expands at most ~1032x: 16 KiB in, about 16 MiB out).
 */
import { Inflate } from 'fflate';

const STEP = 16 * 1024;

export type InflateOutcome = { ok: Uint8Array } | { tooLong: true } | { tooShort: number } | { corrupt: string };

export function inflateBounded(data: Uint8Array, size: number): InflateOutcome {
  const out = new Uint8Array(size);
  let n = 0;
  let over = false;
  const inflater = new Inflate((chunk) => {
    if (n + chunk.length > size) {
      over = true;
      throw new RangeError('output over the expected size');
    }
    out.set(chunk, n);
    n += chunk.length;
  });
  try {
    if (data.length === 0) inflater.push(data, true);
    for (let o = 0; o < data.length; o += STEP) inflater.push(data.subarray(o, o + STEP), o + STEP >= data.length);
  } catch (e) {
    if (over) return { tooLong: true };
    return { corrupt: (e as Error).message };
  }
  return n === size ? { ok: out } : { tooShort: n };
}
