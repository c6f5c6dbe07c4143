/**
 * Fuzzing the ONNX importer: truncated and mutated copies of real files (byte flips, random bytes,
 * deleted / duplicated / inserted ranges, varint-length bumps) either import into a valid graph or
 * throw OnnxImportError. Never another exception, never a hang (each import is timed).
 */
import { describe, expect, it } from 'vitest';
import { validateGraph } from '../src/graph/passes/util.ts';
import { importOnnx, OnnxImportError } from '../src/io/onnx/import.ts';
import { fixture, tinyModel, tinyValid } from './helpers/onnx.ts';
import { mulberry32 } from './helpers/random.ts';

type Mutator = (b: Uint8Array, r: () => number) => Uint8Array;
const ri = (r: () => number, n: number) => Math.floor(r() * n);

const MUTATORS: Record<string, Mutator> = {
  truncate: (b, r) => b.slice(0, ri(r, b.length)),
  flip: (b, r) => {
    const c = b.slice();
    for (let k = 1 + ri(r, 8); k > 0; k--) c[ri(r, c.length)] ^= 1 << ri(r, 8);
    return c;
  },
  randomBytes: (b, r) => {
    const c = b.slice();
    for (let k = 1 + ri(r, 16); k > 0; k--) c[ri(r, c.length)] = ri(r, 256);
    return c;
  },
  /** Bumps bytes that look like small varints (tags, lengths, dims) by a little. */
  smallInts: (b, r) => {
    const c = b.slice();
    for (let k = 1 + ri(r, 6); k > 0; k--) {
      const i = ri(r, c.length);
      if (c[i] < 0x80) c[i] = Math.min(0x7f, Math.max(0, c[i] + ri(r, 7) - 3));
    }
    return c;
  },
  deleteRange: (b, r) => {
    const i = ri(r, b.length), n = 1 + ri(r, 64);
    return Uint8Array.from([...b.subarray(0, i), ...b.subarray(Math.min(b.length, i + n))]);
  },
  duplicateRange: (b, r) => {
    const i = ri(r, b.length), n = 1 + ri(r, 256);
    const part = b.subarray(i, Math.min(b.length, i + n));
    return Uint8Array.from([...b.subarray(0, i), ...part, ...part, ...b.subarray(i + part.length)]);
  },
  insertGarbage: (b, r) => {
    const i = ri(r, b.length);
    const g = Array.from({ length: 1 + ri(r, 32) }, () => ri(r, 256));
    return Uint8Array.from([...b.subarray(0, i), ...g, ...b.subarray(i)]);
  },
  /** A huge length prefix: 0xff 0xff 0xff 0xff 0x0f at a random position. */
  hugeLength: (b, r) => {
    const c = b.slice();
    const i = ri(r, Math.max(1, c.length - 5));
    c.set([0xff, 0xff, 0xff, 0xff, 0x0f], i);
    return c;
  },
};

function check(bytes: Uint8Array, what: string): 'ok' | 'error' {
  const t0 = performance.now();
  let outcome: 'ok' | 'error';
  try {
    const r = importOnnx(bytes, 'fuzz.onnx');
    validateGraph(r.graph);
    for (const p of r.graph.params) expect(r.host[p.name].length, `${what}: ${p.name}`).toBe(p.shape.reduce((a, b) => a * b, 1));
    expect(r.graph.nodes[r.graph.nodes.length - 1].op).toBe('dequant_stub');
    outcome = 'ok';
  } catch (e) {
    if (!(e instanceof OnnxImportError)) throw new Error(`${what}: ${(e as Error)?.name}: ${(e as Error)?.message}`);
    expect(e.message.length).toBeGreaterThan(0);
    outcome = 'error';
  }
  expect(performance.now() - t0, `${what} took too long`).toBeLessThan(2000);
  return outcome;
}

describe('ONNX importer fuzzing', () => {
  const sources: [string, Uint8Array, number][] = [
    ['residual', fixture('residual'), 120],
    ['handmade', fixture('handmade'), 120],
    ['mlp', fixture('mlp'), 60],
    // shape subgraphs folded at import, Split, the channel-shuffle pattern
    ['shuffle_split_13', fixture('shuffle_split_13'), 200],
    ['tiny', tinyModel(tinyValid()), 120],
  ];
  for (const [name, bytes, count] of sources) {
    it(`${count} mutated and truncated copies of ${name} (${bytes.length} bytes)`, () => {
      expect(check(bytes, name)).toBe('ok');
      const r = mulberry32(0x5eed + bytes.length);
      const names = Object.keys(MUTATORS);
      const tally: Record<string, number> = { ok: 0, error: 0 };
      for (let i = 0; i < count; i++) {
        const m = names[i % names.length];
        const mutated = MUTATORS[m](bytes, r);
        tally[check(mutated, `${name} #${i} (${m})`)]++;
      }
      expect(tally.ok + tally.error).toBe(count);
      // Some mutations must be caught (a fuzzer that only produced valid files would test nothing).
      expect(tally.error).toBeGreaterThan(count / 4);
    });
  }

  it('truncations of the large MobileNetV2 file at 20 points', () => {
    const bytes = fixture('mobilenetv2');
    for (let k = 0; k < 20; k++) check(bytes.subarray(0, Math.floor((bytes.length * k) / 20) + k), `mobilenetv2 truncated #${k}`);
  });
});
