/**
 * The WebGPU backend the 'webgpu' conformance runners share: the one given with {@link setConformanceBackend}
 * (tests, the page), else one acquired on first use (navigator.gpu in a browser, Dawn in Node). An acquired
 * backend is disposed once no case has run for a moment, so the CLI exits by itself.
 */
import type { WebGpuBackend } from '../engine/webgpu/webgpu-backend.ts';

let given: WebGpuBackend | null = null;
let owned: WebGpuBackend | null = null;
let acquiring: Promise<WebGpuBackend> | null = null;
let idleTimer: ReturnType<typeof setTimeout> | null = null;
const IDLE_DISPOSE_MS = 300;

/** Runs the webgpu kinds on this backend; null returns to acquiring one on demand. */
export function setConformanceBackend(be: WebGpuBackend | null): void {
  given = be;
}

/** Disposes the backend acquired by the runners (if any). */
export function releaseConformanceBackend(): void {
  if (idleTimer) clearTimeout(idleTimer);
  idleTimer = null;
  owned?.dispose();
  owned = null;
}

async function acquire(): Promise<WebGpuBackend> {
  if (given) return given;
  if (idleTimer) clearTimeout(idleTimer);
  idleTimer = null;
  if (owned) return owned;
  acquiring ??= (async () => {
    const { WebGpuBackend } = await import('../engine/webgpu/webgpu-backend.ts');
    const nav = (globalThis as { navigator?: { gpu?: GPU } }).navigator;
    if (nav?.gpu) {
      const { acquireDevice } = await import('../engine/webgpu/device.ts');
      const d = await acquireDevice(nav.gpu);
      owned = new WebGpuBackend(d.device, d.adapterName);
    } else {
      const { acquireNodeDevice } = await import('../engine/webgpu/node-gpu.ts');
      const d = await acquireNodeDevice((process.env.QS_GPU as 'auto' | 'gles' | 'vulkan' | undefined) ?? 'auto');
      owned = new WebGpuBackend(d.device, d.adapterName, d.gpu);
    }
    return owned;
  })().finally(() => {
    acquiring = null;
  });
  return acquiring;
}

/** Runs `f` on the shared backend, then lets an acquired one go after a short idle time. */
export async function withConformanceBackend<T>(f: (be: WebGpuBackend) => Promise<T>): Promise<T> {
  const be = await acquire();
  try {
    return await f(be);
  } finally {
    if (!given && owned) {
      if (idleTimer) clearTimeout(idleTimer);
      idleTimer = setTimeout(releaseConformanceBackend, IDLE_DISPOSE_MS);
      (idleTimer as { unref?: () => void }).unref?.();
    }
  }
}
