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
export function torchOutputs(pkgDir: string, x: Float32Array, shape: number[], state?: string): Float32Array {
  const inp = join(pkgDir, 'inputs.safetensors'), outp = join(pkgDir, 'outputs.safetensors');
  writeFileSync(inp, encodeSafetensors({ x: { dtype: 'F32', shape, data: x } }));
  run(PYTHON, [TORCH_RUN, pkgDir, inp, outp, ...(state ? ['--state', state] : [])]);
  return decodeSafetensors(new Uint8Array(readFileSync(outp)), outp).tensors.y.data as Float32Array;
}
