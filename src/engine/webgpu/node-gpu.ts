/**
 * WebGPU in Node through Dawn (the `webgpu` package). On machines without a GPU two software
 * drivers work (see the design page): Mesa llvmpipe over OpenGL ES (compatibility mode, about 5x
 * faster here) and SwiftShader over Vulkan (needs LD_LIBRARY_PATH=/usr/lib/chromium at process
 * start). 'auto' prefers a real Vulkan GPU, then llvmpipe, then SwiftShader.
 */
import { acquireDevice, NoAdapterError, type AcquiredDevice } from './device.ts';

export type NodeGpuPreference = 'auto' | 'vulkan' | 'gles';

const SWIFTSHADER_ICD = '/usr/lib/chromium/vk_swiftshader_icd.json';
const ICD_DIRS = ['/usr/share/vulkan/icd.d', '/etc/vulkan/icd.d', '/usr/local/share/vulkan/icd.d', '/usr/local/nvidia/share/vulkan/icd.d'];

/** Whether a Vulkan driver could exist: asking Dawn without one prints an error trace on stderr. */
async function vulkanDriverListed(): Promise<boolean> {
  if (process.env.VK_ICD_FILENAMES || process.env.VK_DRIVER_FILES) return true;
  const { readdir } = await import('node:fs/promises');
  for (const dir of ICD_DIRS) {
    try {
      if ((await readdir(dir)).some((f) => f.endsWith('.json'))) return true;
    } catch {
      // not there
    }
  }
  return false;
}

interface DawnModule {
  create(flags: string[]): GPU;
  globals: Record<string, unknown>;
}

export interface NodeDevice extends AcquiredDevice {
  /** Keeps Dawn's GPU object alive as long as the device is in use; drop it to let Node exit. */
  gpu: GPU;
}

async function tryVulkan(dawn: DawnModule): Promise<NodeDevice | null> {
  const gpu = dawn.create(['backend=vulkan']);
  const adapter = await gpu.requestAdapter();
  if (!adapter) return null;
  const isSoftware = /swiftshader|llvmpipe|lavapipe/i.test(`${adapter.info.device} ${adapter.info.description}`);
  const acquired = await acquireDevice(gpu, {}, isSoftware ? 'vulkan, software' : 'vulkan');
  return { ...acquired, gpu };
}

async function tryGles(dawn: DawnModule): Promise<NodeDevice | null> {
  process.env.EGL_PLATFORM ??= 'surfaceless';
  const gpu = dawn.create(['backend=opengles']);
  const opts = { featureLevel: 'compatibility' } as GPURequestAdapterOptions;
  const adapter = await gpu.requestAdapter(opts);
  if (!adapter) return null;
  const acquired = await acquireDevice(gpu, opts, 'opengles');
  return { ...acquired, gpu };
}

export async function acquireNodeDevice(pref: NodeGpuPreference = 'auto'): Promise<NodeDevice> {
  const dawn = (await import('webgpu')) as unknown as DawnModule;
  Object.assign(globalThis, dawn.globals);
  const errors: string[] = [];
  const attempt = async (name: string, f: () => Promise<NodeDevice | null>) => {
    try {
      const d = await f();
      if (!d) errors.push(`${name}: no adapter`);
      return d;
    } catch (e) {
      errors.push(`${name}: ${(e as Error).message}`);
      return null;
    }
  };
  if (pref === 'vulkan' || (pref === 'auto' && (await vulkanDriverListed()))) {
    // A hardware Vulkan driver wins when present; otherwise fall through to the faster software one.
    const d = await attempt('vulkan', () => tryVulkan(dawn));
    if (d && (pref === 'vulkan' || !/software/.test(d.adapterName))) return d;
    if (d) d.device.destroy();
  }
  if (pref === 'gles' || pref === 'auto') {
    const d = await attempt('opengles', () => tryGles(dawn));
    if (d) return d;
  }
  if (pref === 'auto') {
    process.env.VK_ICD_FILENAMES ??= SWIFTSHADER_ICD;
    const d = await attempt('vulkan (SwiftShader)', () => tryVulkan(dawn));
    if (d) return d;
  }
  throw new NoAdapterError(errors.join('; '));
}
