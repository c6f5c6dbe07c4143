/**
 * The WebGPU backend for kernel tests, on Dawn in Node (llvmpipe over OpenGL ES here, a real
 * Vulkan GPU where one exists). One device per test file: call `destroyTestBackend()` in afterAll
 * so the process can exit.
 */
import { acquireNodeDevice } from '../../src/engine/webgpu/node-gpu.ts';
import { WebGpuBackend } from '../../src/engine/webgpu/webgpu-backend.ts';

let backend: WebGpuBackend | null = null;

export async function getTestBackend(): Promise<WebGpuBackend> {
  if (!backend) {
    const pref = (process.env.QS_GPU as 'auto' | 'gles' | 'vulkan' | undefined) ?? 'auto';
    const d = await acquireNodeDevice(pref);
    backend = new WebGpuBackend(d.device, d.adapterName, d.gpu);
  }
  return backend;
}

export function destroyTestBackend(): void {
  backend?.dispose();
  backend = null;
}
