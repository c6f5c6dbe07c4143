/**
 * The backend for the browser (page or worker): the WebGPU engine on navigator.gpu when the browser
 * offers an adapter, else the CPU reference, with the reason WebGPU was not used. Works in a
 * dedicated worker too (WorkerNavigator.gpu). Never throws for a missing or failing WebGPU.
 */
import type { Backend } from './backend.ts';
import { createCpuBackend } from './reference/cpu-backend.ts';
import { acquireDevice } from './webgpu/device.ts';
import { WebGpuBackend } from './webgpu/webgpu-backend.ts';

export interface BrowserBackend {
  backend: Backend;
  /** Why the CPU reference runs instead of WebGPU (undefined when WebGPU runs). */
  reason?: string;
  /** The WebGPU adapter is a software fallback (e.g. SwiftShader): correct but slow. */
  isFallbackAdapter?: boolean;
}

export interface BrowserBackendOptions {
  /** 'cpu' skips WebGPU (the user asked for the reference backend). Default 'auto'. */
  prefer?: 'auto' | 'cpu';
  /** The GPU entry point; default `navigator.gpu` of the current global (page or worker). */
  gpu?: GPU | null;
}

function defaultGpu(): GPU | null {
  const nav = (globalThis as { navigator?: { gpu?: GPU } }).navigator;
  return nav?.gpu ?? null;
}

export async function createBrowserBackend(o: BrowserBackendOptions = {}): Promise<BrowserBackend> {
  const cpu = (reason: string): BrowserBackend => ({ backend: createCpuBackend(), reason });
  if (o.prefer === 'cpu') return cpu('the CPU reference backend was selected');
  const gpu = o.gpu === undefined ? defaultGpu() : o.gpu;
  if (!gpu) {
    return cpu('this browser does not expose WebGPU (navigator.gpu is undefined); in Chromium, WebGPU needs a secure context and a supported GPU, or --enable-unsafe-webgpu');
  }
  try {
    const d = await acquireDevice(gpu);
    return { backend: new WebGpuBackend(d.device, d.adapterName), isFallbackAdapter: d.isFallback };
  } catch (e) {
    const msg = e instanceof Error ? e.message : String(e);
    return cpu(`WebGPU is present but unusable: ${msg}`);
  }
}
