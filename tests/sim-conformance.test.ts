/**
 * Runs the simulator's conformance kinds (src/sim/conformance.ts, 'pytorch' mode) directly on the case files:
 * tests/conformance/cases if the project copy exists, else /work/shared/conformance/cases.
 */
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import type { CaseFile } from '../src/conformance/types.ts';
import { f32VsF64Marked, simKinds } from '../src/sim/conformance.ts';
import { quantizeBias, pytorchRequantSpec, requantize } from '../src/sim/int/requant.ts';

const projectCases = fileURLToPath(new URL('./conformance/cases', import.meta.url));
const casesDir = existsSync(projectCases) ? projectCases : '/work/shared/conformance/cases';

function load(kind: string): Array<{ file: string; c: CaseFile }> {
  return readdirSync(casesDir)
    .filter((f) => f.startsWith(`${kind}__`) && f.endsWith('.json'))
    .sort()
    .map((file) => ({ file, c: JSON.parse(readFileSync(join(casesDir, file), 'utf8')) as CaseFile }));
}

const EXPECTED_COUNTS: Record<string, number> = {
  quantized_conv2d: 20,
  quantized_linear: 12,
  quantized_add: 10,
  quantized_relu: 4,
};

describe(`sim conformance (${casesDir})`, () => {
  for (const kind of Object.keys(EXPECTED_COUNTS)) {
    it(`${kind}: all cases pass bit-exactly`, async () => {
      const cases = load(kind);
      expect(cases.length).toBe(EXPECTED_COUNTS[kind]);
      const failed: string[] = [];
      for (const { file, c } of cases) {
        const r = await simKinds[kind](c, { backend: 'cpu' });
        if (!r.ok) failed.push(`${file}: ${r.error ?? JSON.stringify(r.mismatches)}`);
      }
      expect(failed).toEqual([]);
    });
  }

  it('quantized_linear__12_requant_f32_vs_f64: the 4 marked outputs come out exact (no ±1 used)', () => {
    const [{ c }] = load('quantized_linear').filter((x) => x.file.startsWith('quantized_linear__12_'));
    const marked = f32VsF64Marked(c);
    expect(marked.size).toBe(c.derived?.n_diff_if_float64_multiplier_half_even);
    const acc = Int32Array.from((c.derived?.acc_int32 as { data: number[] }).data);
    const ws = (c.inputs.w_scales as { data: number[] }).data;
    const spec = pytorchRequantSpec(c.inputs.x_scale as number, ws, c.params.out_scale as number);
    const out = requantize(acc, spec, { dtype: 'uint8', zeroPoint: c.params.out_zero_point as number }, { channels: ws.length, inner: 1 });
    const exp = (c.expected.out_q as { data: number[] }).data;
    for (const i of marked) expect(out[i]).toBe(exp[i]);
    expect(Array.from(out)).toEqual(exp);
    // The bias path agrees with the file too.
    const bias = quantizeBias((c.inputs.bias as { data: number[] }).data, c.inputs.x_scale as number, ws);
    expect(Array.from(bias)).toEqual((c.derived?.bias_int32 as { data: number[] }).data);
  });
});
