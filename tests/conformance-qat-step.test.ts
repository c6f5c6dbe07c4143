/**
 * qat_step conformance on the WebGPU backend (the CPU backend is covered by tests/conformance.test.ts), plus the
 * pieces of src/quant/qat-convbn.ts the runner depends on: ChooseQuantizationParams against values of the case
 * files, and a tampered case that must fail (the comparison is not vacuous).
 */
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { afterAll, describe, expect, it } from 'vitest';
import { formatFailure, runConformance } from '../src/conformance/run.ts';
import { runQatStep } from '../src/conformance/kinds/qat-step.ts';
import { setConformanceBackend } from '../src/conformance/gpu-lease.ts';
import type { CaseFile, CaseTensor } from '../src/conformance/types.ts';
import { CpuBackend } from '../src/engine/reference/cpu-backend.ts';
import { chooseQuantizationParams } from '../src/quant/qat-convbn.ts';
import { destroyTestBackend, getTestBackend } from './helpers/gpu.ts';

const CASES = fileURLToPath(new URL('./conformance/cases', import.meta.url));
const f32 = Math.fround;

afterAll(() => {
  setConformanceBackend(null);
  destroyTestBackend();
});

describe('qat_step conformance (webgpu backend)', () => {
  it('passes the 3 cases and releases every tensor', async () => {
    const be = await getTestBackend();
    setConformanceBackend(be);
    const live0 = be.liveTensors();
    const s = await runConformance(CASES, { backends: ['webgpu'], kinds: ['qat_step'] });
    expect(s.outcomes.flatMap((o) => formatFailure(o))).toEqual([]);
    expect(s.passed).toBe(3);
    expect(be.liveTensors()).toBe(live0);
  });
});

describe('qat_step building blocks', () => {
  it('ChooseQuantizationParams: symmetric per-channel divides by 128 or 127, affine uses the smaller-error zero point', () => {
    // conformance case 01, conv.weight_fake_quant channels 0 and 3
    expect(chooseQuantizationParams(-0.16140978038311005, 0.12388502806425095, -128, 127, true))
      .toEqual({ scale: f32(0.0012610139092430472), zeroPoint: 0 });
    expect(chooseQuantizationParams(-0.26845526695251465, 0.4113337993621826, -128, 127, true))
      .toEqual({ scale: f32(0.003238848876208067), zeroPoint: 0 });
    // quant.activation_post_process (quint8 0..127, affine)
    expect(chooseQuantizationParams(-2.760483503341675, 2.459745407104492, 0, 127, false))
      .toEqual({ scale: f32(0.041104163974523544), zeroPoint: 67 });
    // after relu: min 0
    expect(chooseQuantizationParams(0, 3.7418031692504883, 0, 127, false))
      .toEqual({ scale: f32(0.029463017359375954), zeroPoint: 0 });
    // degenerate ranges: scale 0.1 for an all-zero tensor; tiny ranges are lifted to 6.1e-5
    expect(chooseQuantizationParams(0, 0, 0, 127, false)).toEqual({ scale: f32(0.1), zeroPoint: 0 });
    expect(chooseQuantizationParams(0, 1e-4, 0, 127, false).scale).toBe(f32(6.1e-5));
    expect(() => chooseQuantizationParams(1, 0, 0, 127, false)).toThrow();
  });

  it('a tampered expected gradient of gamma fails on the CPU backend', async () => {
    const file = `${CASES}/qat_step__01_conv_bn_relu_seed1.json`;
    const c = JSON.parse(readFileSync(file, 'utf8')) as CaseFile;
    const be = new CpuBackend();
    expect((await runQatStep(be, c)).ok).toBe(true);
    const g = (c.expected.grads as Record<string, CaseTensor>)['conv.bn.weight'];
    (g.data as number[])[2] *= 1 + 3e-4;
    const r = await runQatStep(be, c);
    expect(r.ok).toBe(false);
    expect(r.mismatches.map((m) => [m.output, m.index])).toEqual([['grads.conv.bn.weight', 2]]);
    expect(be.liveTensors()).toBe(0);
  });
});
