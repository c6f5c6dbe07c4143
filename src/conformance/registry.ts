/**
 * Registry of conformance kind runners: kind -> runner per backend.
 *
 * - `cpu`: CPU references (fake quant, observers) from ./kinds.
 * - `webgpu`: nothing yet for the quant kinds (the WGSL fake-quant kernels will call
 *   `registerKind(kind, 'webgpu', runner)`); asking for it answers "backend webgpu not available for kind X yet".
 * - `any`: runners that handle every backend themselves through `ctx.backend`.
 * The quantized_* kinds of the fixed-point simulator (src/sim/conformance.ts) ignore `ctx.backend` (integer CPU
 * code), so they are registered for `cpu` only.
 */
import type { CaseFile, CaseResult, ConformanceBackend, KindContext, KindRunner } from './types.ts';
import { fakeQuantCpuKinds } from './kinds/fake-quant.ts';
import { observerCpuKinds } from './kinds/observers.ts';
// quantized_* kinds (src/sim/conformance.ts, another engineer's file): merged into the registry below.
import { simKinds } from '../sim/conformance.ts';
import { simGpuKinds } from '../sim/gpu/conformance.ts';
import { webgpuKinds } from './kinds/webgpu.ts';
import { qatStepCpu, qatStepWebGpu } from './kinds/qat-step.ts';

export type RegistryBackend = ConformanceBackend | 'any';

const runners = new Map<string, Partial<Record<RegistryBackend, KindRunner>>>();

/** Registers (or replaces) the runner of `kind` for one backend ('any' = all backends). */
export function registerKind(kind: string, backend: RegistryBackend, runner: KindRunner): void {
  const entry = runners.get(kind) ?? {};
  entry[backend] = runner;
  runners.set(kind, entry);
}

for (const [kind, runner] of Object.entries({ ...fakeQuantCpuKinds, ...observerCpuKinds })) registerKind(kind, 'cpu', runner);
for (const [kind, runner] of Object.entries(simKinds)) registerKind(kind, 'cpu', runner);
for (const [kind, runner] of Object.entries(simGpuKinds)) registerKind(kind, 'webgpu', runner);
for (const [kind, runner] of Object.entries(webgpuKinds)) registerKind(kind, 'webgpu', runner);
registerKind('qat_step', 'cpu', qatStepCpu);
registerKind('qat_step', 'webgpu', qatStepWebGpu);

/** Every kind with at least one runner, sorted. */
export function registeredKinds(): string[] {
  return [...runners.keys()].sort();
}

/** Kinds runnable on `backend`. */
export function kindsFor(backend: ConformanceBackend): string[] {
  return registeredKinds().filter((k) => {
    const e = runners.get(k)!;
    return e[backend] !== undefined || e.any !== undefined;
  });
}

export function hasKind(kind: string): boolean {
  return runners.has(kind);
}

/** The runner for (kind, backend), or the error message explaining why there is none. */
export function resolveRunner(kind: string, backend: ConformanceBackend): KindRunner | string {
  const e = runners.get(kind);
  if (!e) return `no runner for kind ${kind}`;
  const r = e[backend] ?? e.any;
  if (!r) return `backend ${backend} not available for kind ${kind} yet`;
  return r;
}

/** Runs one case; a missing runner or an exception becomes an error result. */
export async function runCase(c: CaseFile, ctx: KindContext): Promise<CaseResult> {
  const r = resolveRunner(c.kind, ctx.backend);
  if (typeof r === 'string') return { ok: false, mismatches: [], error: r };
  try {
    return await r(c, ctx);
  } catch (err) {
    return { ok: false, mismatches: [], error: err instanceof Error ? err.message : String(err) };
  }
}
