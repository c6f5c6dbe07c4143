/** Backends for Node (CLI, tests, benchmarks): the WebGPU engine on Dawn, or the CPU reference. */
import type { Backend } from './backend.ts';
import { createCpuBackend } from './reference/cpu-backend.ts';
import { acquireNodeDevice, type NodeGpuPreference } from './webgpu/node-gpu.ts';
import { WebGpuBackend } from './webgpu/webgpu-backend.ts';

export type BackendName = 'webgpu' | 'cpu';

export async function createNodeBackend(name: BackendName, gpu: NodeGpuPreference = 'auto'): Promise<Backend> {
  if (name === 'cpu') return createCpuBackend();
  const d = await acquireNodeDevice(gpu);
  return new WebGpuBackend(d.device, d.adapterName, d.gpu);
}
