/**
 * Runs the conformance runner over tests/conformance/cases (PyTorch 1.13.1 reference vectors) for every kind that
 * has a CPU runner, one `it` per kind so failures show by kind (qat_step runs on the training engine's CPU backend).
 *
 * Histogram quirk: src/quant/observers/histogram.ts copies torch 1.13 exactly — `torch.histc(x, 2048,
 * min=int(min_val), max=int(max_val))` with Python int() truncation toward zero (values outside
 * [trunc(min), trunc(max)] are dropped; equal truncated bounds fall back to the tensor's min/max, then ±1), also for
 * the new batch of a multi-batch merge (histc on the truncated combined range). With that, the histograms, min/max,
 * search bounds and scales are bit-exact on all 22 cases; the runner still only requires the README tolerance
 * (scale within 1e-3 relative, zero point ±1, search bounds within 1e-3 of the range).
 */
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { formatFailure, runConformance } from '../src/conformance/run.ts';

const CASES = fileURLToPath(new URL('./conformance/cases', import.meta.url));

const KINDS: [kind: string, count: number][] = [
  ['fake_quant_per_tensor', 18],
  ['fake_quant_per_channel', 13],
  ['observer_minmax', 20],
  ['observer_moving_average_minmax', 16],
  ['observer_per_channel_minmax', 16],
  ['observer_histogram', 22],
  ['quantized_conv2d', 20],
  ['quantized_linear', 12],
  ['quantized_add', 10],
  ['quantized_relu', 4],
  ['qat_step', 3],
];

describe('conformance cases (cpu backend)', () => {
  for (const [kind, count] of KINDS) {
    it(kind, async () => {
      const s = await runConformance(CASES, { backends: ['cpu'], kinds: [kind] });
      const failures = s.outcomes.flatMap((o) => formatFailure(o));
      expect(failures).toEqual([]);
      expect(s.passed).toBe(count);
      expect(s.failed).toBe(0);
    });
  }

  it('reports a kind without a runner as a failure, naming the kind', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'qs-conf-'));
    writeFileSync(join(dir, 'made_up__01_x.json'), JSON.stringify({ kind: 'made_up', name: 'x', inputs: {}, params: {}, expected: {} }));
    const s = await runConformance(dir, { backends: ['cpu'] });
    expect(s.passed).toBe(0);
    expect(s.failed).toBe(1);
    expect(s.outcomes[0].result.error).toBe('no runner for kind made_up');
  });
});
