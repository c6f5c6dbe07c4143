/**
 * Kind runner `qat_step` ('cpu' and 'webgpu'): one PyTorch eager-mode QAT training step reproduced on the training
 * engine (Tape + the engine's differentiable functions, on the CPU reference backend or the WebGPU backend):
 *
 *   QuantStub -> ConvBnReLU2d (ConvReLU2d when the case has no BN) -> flatten -> Linear(144, 3) -> DeQuantStub,
 *   qconfig get_default_qat_qconfig('fbgemm') (src/quant/qat-convbn.ts), train mode,
 *   one forward on x, backward with grad_output.
 *
 * Compared (README: float outputs within 1e-4 relative): `out`, the gradients (post-fusion names), every
 * fake-quant module's scale / min_val / max_val (zero points exactly) and the BN running statistics after the
 * step. An element passes when |actual - expected| <= 1e-4 * |expected| (purely relative, as the README says; on
 * the 3 cases the largest relative difference is about 2e-5, one conv.weight gradient element of case 01, every
 * other element is within 1e-5 on both backends).
 */
import type { Backend, BTensor } from '../../engine/backend.ts';
import { Tape, Var } from '../../engine/autograd.ts';
import { linearFn } from '../../engine/fns/dense.ts';
import { reshapeFn } from '../../engine/fns/pool.ts';
import { CpuBackend } from '../../engine/reference/cpu-backend.ts';
import { convParams } from '../../engine/backend.ts';
import {
  FBGEMM_QAT_ACTIVATION, FBGEMM_QAT_WEIGHT, FusedMovingAvgFakeQuant, convBnQat, convQat,
} from '../../quant/qat-convbn.ts';
import { withConformanceBackend } from '../gpu-lease.ts';
import type { CaseFile, CaseResult, KindRunner, Mismatch } from '../types.ts';
import { compare, f32Tensor, isCaseTensor, numbers, param, result } from './common.ts';

const REL = 1e-4;

const FBGEMM_QCONFIG = "get_default_qat_qconfig('fbgemm')";

function closeTo(output: string, expected: ArrayLike<number>, actual: ArrayLike<number>): Mismatch | null {
  return compare(output, expected, actual, { rel: REL });
}

/** Runs one qat_step case on `be`; every tensor it creates is released before it returns. */
export async function runQatStep(be: Backend, c: CaseFile): Promise<CaseResult> {
  const qconfig = param<string>(c, 'qconfig');
  if (qconfig !== FBGEMM_QCONFIG) throw new Error(`unsupported qconfig ${qconfig} (only ${FBGEMM_QCONFIG})`);
  if (param<string>(c, 'mode', 'train') !== 'train') throw new Error('only train mode is supported');
  const init = c.inputs.initial_state as Record<string, unknown> | undefined;
  if (!init) throw new Error('inputs.initial_state is missing');
  const hasBn = isCaseTensor(init['bn.weight']);
  const eps = param<number>(c, 'bn_eps', 1e-5);
  const momentum = param<number>(c, 'bn_momentum', 0.1);

  const owned: BTensor[] = [];
  const up = (obj: Record<string, unknown>, key: string, where: string): BTensor => {
    const t = f32Tensor(obj, key, where);
    const b = be.upload(t.data, t.shape);
    owned.push(b);
    return b;
  };
  const param_ = (key: string): Var => new Var(up(init, key, 'inputs.initial_state'), true, key);

  const tape = new Tape(be, true, true);
  const vars: Var[] = [];
  try {
    const convW = param_('conv.weight');
    const convB = isCaseTensor(init['conv.bias']) ? param_('conv.bias') : null;
    const fcW = param_('fc.weight');
    const fcB = param_('fc.bias');
    vars.push(convW, fcW, fcB);
    if (convB) vars.push(convB);
    const O = convW.shape[0];
    const fq = {
      'quant.activation_post_process': new FusedMovingAvgFakeQuant({ ...FBGEMM_QAT_ACTIVATION, channels: 1 }),
      'conv.weight_fake_quant': new FusedMovingAvgFakeQuant({ ...FBGEMM_QAT_WEIGHT, channels: O }),
      'conv.activation_post_process': new FusedMovingAvgFakeQuant({ ...FBGEMM_QAT_ACTIVATION, channels: 1 }),
      'fc.weight_fake_quant': new FusedMovingAvgFakeQuant({ ...FBGEMM_QAT_WEIGHT, channels: fcW.shape[0] }),
      'fc.activation_post_process': new FusedMovingAvgFakeQuant({ ...FBGEMM_QAT_ACTIVATION, channels: 1 }),
    };

    const xv = new Var(up(c.inputs, 'x', 'inputs'));
    const xq = await fq['quant.activation_post_process'].forward(tape, xv);
    let h: Var;
    let bn: { gamma: Var; beta: Var; runningMean: BTensor; runningVar: BTensor } | null = null;
    if (hasBn) {
      bn = {
        gamma: param_('bn.weight'), beta: param_('bn.bias'),
        runningMean: up(init, 'bn.running_mean', 'inputs.initial_state'),
        runningVar: up(init, 'bn.running_var', 'inputs.initial_state'),
      };
      vars.push(bn.gamma, bn.beta);
      h = await convBnQat(tape, xq, {
        weight: convW, bias: convB, ...bn, eps, momentum, conv: convParams({}),
        weightFakeQuant: fq['conv.weight_fake_quant'], relu: true,
      });
    } else {
      h = await convQat(tape, xq, convW, convB, convParams({}), fq['conv.weight_fake_quant'], true);
    }
    h = await fq['conv.activation_post_process'].forward(tape, h);
    const N = h.shape[0];
    const flat = tape.apply(reshapeFn, [h], { shape: [N, h.value.size / N] });
    const fcWq = await fq['fc.weight_fake_quant'].forward(tape, fcW);
    const fc = tape.apply(linearFn, [flat, fcWq, fcB], null);
    const out = await fq['fc.activation_post_process'].forward(tape, fc);
    tape.backward(out, up(c.inputs, 'grad_output', 'inputs'));

    const checks: (Mismatch | null)[] = [];
    checks.push(closeTo('out', numbers(c.expected, 'out', 'expected'), await be.read(out.value)));
    const grads = c.expected.grads as Record<string, unknown>;
    const gradOf: Record<string, Var | null> = {
      'conv.weight': convW, 'conv.bias': convB, 'conv.bn.weight': bn?.gamma ?? null, 'conv.bn.bias': bn?.beta ?? null,
      'fc.weight': fcW, 'fc.bias': fcB,
    };
    for (const name of Object.keys(grads)) {
      const v = gradOf[name];
      if (!v) throw new Error(`expected.grads.${name}: no such parameter in this model`);
      if (!v.grad) {
        checks.push({ output: `grads.${name}`, index: -1, expected: NaN, actual: NaN, count: 1 });
        continue;
      }
      checks.push(closeTo(`grads.${name}`, numbers(grads, name, 'expected.grads'), await be.read(v.grad)));
    }
    const fqExpected = c.expected.fake_quant as Record<string, Record<string, unknown>>;
    for (const [name, e] of Object.entries(fqExpected)) {
      const m = (fq as Record<string, FusedMovingAvgFakeQuant>)[name];
      if (!m) throw new Error(`expected.fake_quant.${name}: no such fake-quant module`);
      const where = `expected.fake_quant.${name}`;
      if (e.quant_min !== m.cfg.quantMin || e.quant_max !== m.cfg.quantMax) {
        throw new Error(`${where}: quant range [${e.quant_min}, ${e.quant_max}], the qconfig gives [${m.cfg.quantMin}, ${m.cfg.quantMax}]`);
      }
      checks.push(closeTo(`${name}.scale`, numbers(e, 'scale', where), m.scale));
      checks.push(compare(`${name}.zero_point`, numbers(e, 'zero_point', where), m.zeroPoint));
      checks.push(closeTo(`${name}.min_val`, numbers(e, 'min_val', where), m.minVal));
      checks.push(closeTo(`${name}.max_val`, numbers(e, 'max_val', where), m.maxVal));
    }
    const running = (c.expected.bn_running_after ?? {}) as Record<string, unknown>;
    for (const name of Object.keys(running)) {
      const t = name === 'conv.bn.running_mean' ? bn?.runningMean : name === 'conv.bn.running_var' ? bn?.runningVar : undefined;
      if (!t) throw new Error(`expected.bn_running_after.${name}: no such buffer in this model`);
      checks.push(closeTo(name, numbers(running, name, 'expected.bn_running_after'), await be.read(t)));
    }
    if (hasBn && Object.keys(running).length === 0) throw new Error('expected.bn_running_after is empty for a model with BN');
    return result(checks);
  } finally {
    tape.dispose();
    for (const v of vars) if (v.grad) be.release(v.grad);
    for (const t of owned) be.release(t);
  }
}

export const qatStepCpu: KindRunner = (c) => runQatStep(new CpuBackend(), c);

/** webgpu: the shared conformance backend (src/conformance/gpu-lease.ts). */
export const qatStepWebGpu: KindRunner = (c) => withConformanceBackend((be) => runQatStep(be, c));
