/** Helpers of the PyTorch export tests: Debian's /usr/bin/python3 with torch, packages written to temp folders. */
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { TorchPackage } from '../../src/io/torch/export-package.ts';
import { decodeSafetensors, encodeSafetensors } from '../../src/io/torch/safetensors.ts';

export const PYTHON = '/usr/bin/python3';
export const TORCH_RUN = fileURLToPath(new URL('./torch_run.py', import.meta.url));

export function tempDir(prefix: string): string {
  return mkdtempSync(join(tmpdir(), `qs-${prefix}-`));
}

export function writePackage(p: TorchPackage, dir: string): void {
  for (const [name, bytes] of Object.entries(p.files)) writeFileSync(join(dir, name), bytes);
}

/** Runs a command; throws with its output when it fails. */
export function run(cmd: string, args: string[], opts: { cwd?: string; timeoutMs?: number; env?: Record<string, string> } = {}): string {
  const r = spawnSync(cmd, args, {
    cwd: opts.cwd, encoding: 'utf8', timeout: opts.timeoutMs ?? 300_000,
    env: { ...process.env, OMP_NUM_THREADS: '1', ...opts.env },
  });
  const out = `${r.stdout ?? ''}${r.stderr ?? ''}`;
  if (r.status !== 0) throw new Error(`${cmd} ${args.join(' ')} exited with ${r.status ?? r.signal}:\n${out}`);
  return out;
}

/** The exported model in PyTorch (fake-quant evaluation) on x [n, ...inputShape]; optionally with a state_dict file. */
/**
 * torchOutputs plus the outputs of the named submodules (torch_run.py --taps), by module name. `force`: the studio's
 * value at each tap ([n, ...] per module), passed on in place of PyTorch's (torch_run.py --force): each tap then
 * shows that op's own numerics on the studio's inputs.
 */
export function torchTaps(pkgDir: string, x: Float32Array, shape: number[], taps: string[], force?: Map<string, Float32Array>): { y: Float32Array; taps: Map<string, Float32Array> } {
  const inp = join(pkgDir, 'inputs.safetensors'), outp = join(pkgDir, 'outputs.safetensors');
  writeFileSync(inp, encodeSafetensors({ x: { dtype: 'F32', shape, data: x } }));
  const args = [TORCH_RUN, pkgDir, inp, outp, '--taps', taps.join(',')];
  if (force) {
    const forced = join(pkgDir, 'forced.safetensors');
    writeFileSync(forced, encodeSafetensors(Object.fromEntries(taps.map((t) => {
      const v = force.get(t);
      if (!v) throw new Error(`no studio value to force at ${t}`);
      return [`force.${t}`, { dtype: 'F32' as const, shape: [shape[0], v.length / shape[0]], data: v }];
    }))));
    args.push('--force', forced);
  }
  run(PYTHON, args);
  const t = decodeSafetensors(new Uint8Array(readFileSync(outp)), outp).tensors;
  return { y: t.y.data as Float32Array, taps: new Map(taps.map((name) => [name, t[`tap.${name}`].data as Float32Array])) };
}

export function torchOutputs(pkgDir: string, x: Float32Array, shape: number[], state?: string): Float32Array {
  const inp = join(pkgDir, 'inputs.safetensors'), outp = join(pkgDir, 'outputs.safetensors');
  writeFileSync(inp, encodeSafetensors({ x: { dtype: 'F32', shape, data: x } }));
  run(PYTHON, [TORCH_RUN, pkgDir, inp, outp, ...(state ? ['--state', state] : [])]);
  return decodeSafetensors(new Uint8Array(readFileSync(outp)), outp).tensors.y.data as Float32Array;
}

/** Every output of the exported model in PyTorch (forward returns a tuple for several), in order. */
export function torchOutputsAll(pkgDir: string, x: Float32Array, shape: number[], state?: string): Float32Array[] {
  const inp = join(pkgDir, 'inputs.safetensors'), outp = join(pkgDir, 'outputs.safetensors');
  writeFileSync(inp, encodeSafetensors({ x: { dtype: 'F32', shape, data: x } }));
  const log = run(PYTHON, [TORCH_RUN, pkgDir, inp, outp, ...(state ? ['--state', state] : [])]);
  const n = JSON.parse(log.split('\n').find((l) => l.startsWith('{"n"'))!).outputs as number;
  const t = decodeSafetensors(new Uint8Array(readFileSync(outp)), outp).tensors;
  return Array.from({ length: n }, (_, k) => t[`y.${k}`].data as Float32Array);
}

/**
 * Per-sample max |a - b| / max |b| over n rows, summarized. PyTorch's convolutions (oneDNN) and the studio's sum in
 * different orders, so a value that lands within float32 noise of a rounding boundary of a fake-quant site can come
 * out one step apart: such samples are few, and their share is what the tests bound.
 */
export function perSampleErrors(a: Float32Array, b: Float32Array, n: number): { within1e5: number; median: number; max: number } {
  const k = b.length / n;
  const errs: number[] = [];
  for (let i = 0; i < n; i++) {
    let d = 0, m = 0;
    for (let j = i * k; j < (i + 1) * k; j++) {
      d = Math.max(d, Math.abs(a[j] - b[j]));
      m = Math.max(m, Math.abs(b[j]));
    }
    errs.push(d / Math.max(m, 1e-30));
  }
  errs.sort((x, y) => x - y);
  return { within1e5: errs.filter((e) => e <= 1e-5).length / n, median: errs[n >> 1], max: errs[n - 1] };
}

/** Share (%) of rows whose argmax is the same. */
export function top1Agreement(a: Float32Array, b: Float32Array, n: number): number {
  const k = b.length / n;
  let same = 0;
  for (let i = 0; i < n; i++) {
    let ia = 0, ib = 0;
    for (let j = 1; j < k; j++) {
      if (a[i * k + j] > a[i * k + ia]) ia = j;
      if (b[i * k + j] > b[i * k + ib]) ib = j;
    }
    if (ia === ib) same++;
  }
  return (100 * same) / n;
}
