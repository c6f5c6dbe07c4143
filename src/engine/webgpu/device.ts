/**
 * Device acquisition, shared by the browser (navigator.gpu) and Node (the `webgpu` package, see
 * node-gpu.ts). Limits are requested explicitly: the defaults are lower than what software adapters
 * offer (128 MiB per binding, 16 KiB workgroup storage).
 */
export interface AcquiredDevice {
  device: GPUDevice;
  /** What ran, for the UI and the CLI, e.g. "llvmpipe (OpenGL ES 3.2 Mesa 22.3.6)". */
  adapterName: string;
  isFallback: boolean;
  features: string[];
}

export class NoAdapterError extends Error {
  constructor(detail: string) {
    super(`No WebGPU adapter: ${detail}`);
    this.name = 'NoAdapterError';
  }
}

export function describeAdapter(adapter: GPUAdapter, backendHint = ''): string {
  const i = adapter.info;
  const name = [i.vendor, i.architecture, i.device].filter((s) => s && s.length > 0).join(' ') || 'unknown adapter';
  const desc = i.description && i.description !== name ? ` (${i.description})` : '';
  return `${name}${desc}${backendHint ? ` [${backendHint}]` : ''}`;
}

export async function acquireDevice(gpu: GPU, adapterOptions: GPURequestAdapterOptions = {}, backendHint = ''): Promise<AcquiredDevice> {
  const adapter = await gpu.requestAdapter({ powerPreference: 'high-performance', ...adapterOptions });
  if (!adapter) throw new NoAdapterError('requestAdapter() returned null');
  const a = adapter.limits;
  const requiredLimits: Record<string, number> = {
    maxStorageBufferBindingSize: a.maxStorageBufferBindingSize,
    maxBufferSize: a.maxBufferSize,
    maxComputeWorkgroupStorageSize: a.maxComputeWorkgroupStorageSize,
    maxComputeInvocationsPerWorkgroup: Math.min(256, a.maxComputeInvocationsPerWorkgroup),
    maxComputeWorkgroupSizeX: Math.min(256, a.maxComputeWorkgroupSizeX),
    maxComputeWorkgroupSizeY: Math.min(256, a.maxComputeWorkgroupSizeY),
    maxStorageBuffersPerShaderStage: Math.min(10, a.maxStorageBuffersPerShaderStage),
  };
  const device = await adapter.requestDevice({ requiredLimits });
  const features: string[] = [];
  for (const f of adapter.features as unknown as Iterable<string>) features.push(f);
  const isFallback = (adapter as GPUAdapter & { isFallbackAdapter?: boolean }).isFallbackAdapter
    ?? adapter.info.isFallbackAdapter ?? false;
  return { device, adapterName: describeAdapter(adapter, backendHint), isFallback, features };
}
