/**
 * Compute pipelines keyed by (shader key, entry point, binding signature). Creating a pipeline costs
 * 10 ms to over 1 s on software adapters, so each is built once. The cache is bounded (LRU).
 */
export interface PipelineSpec {
  /** Identifies the shader text variant (e.g. 'conv2d' or 'conv2d/wg64'); never the shapes. */
  key: string;
  code: string;
  entry: string;
  numInputs: number;
  numOutputs: number;
  /** Values of the shader's `override` constants (one shader text, several specialised pipelines). */
  constants?: Readonly<Record<string, number>>;
}

export interface CachedPipeline {
  pipeline: GPUComputePipeline;
  layout: GPUBindGroupLayout;
}

export class PipelineCache {
  private pipelines = new Map<string, CachedPipeline>();
  private modules = new Map<string, GPUShaderModule>();
  private layouts = new Map<string, GPUBindGroupLayout>();

  constructor(private device: GPUDevice, private capacity = 256) {}

  get size(): number {
    return this.pipelines.size;
  }

  get(spec: PipelineSpec): CachedPipeline {
    const consts = spec.constants ? Object.entries(spec.constants).map(([k, v]) => `${k}=${v}`).join(',') : '';
    const id = `${spec.key}#${spec.entry}#${spec.numInputs}/${spec.numOutputs}#${consts}`;
    const hit = this.pipelines.get(id);
    if (hit) {
      // Re-insert to mark as most recently used.
      this.pipelines.delete(id);
      this.pipelines.set(id, hit);
      return hit;
    }
    const layout = this.layout(spec.numInputs, spec.numOutputs);
    const module = this.module(spec.key, spec.code);
    const pipeline = this.device.createComputePipeline({
      label: id,
      layout: this.device.createPipelineLayout({ bindGroupLayouts: [layout] }),
      compute: { module, entryPoint: spec.entry, ...(spec.constants ? { constants: { ...spec.constants } } : {}) },
    });
    const entry = { pipeline, layout };
    this.pipelines.set(id, entry);
    if (this.pipelines.size > this.capacity) {
      const oldest = this.pipelines.keys().next().value as string;
      this.pipelines.delete(oldest);
    }
    return entry;
  }

  private module(key: string, code: string): GPUShaderModule {
    let m = this.modules.get(key);
    if (!m) {
      m = this.device.createShaderModule({ label: key, code });
      this.modules.set(key, m);
    }
    return m;
  }

  /** binding 0: uniform params; then the inputs (read-only storage), then the outputs (storage). */
  private layout(numInputs: number, numOutputs: number): GPUBindGroupLayout {
    const id = `${numInputs}/${numOutputs}`;
    let l = this.layouts.get(id);
    if (!l) {
      const entries: GPUBindGroupLayoutEntry[] = [
        { binding: 0, visibility: GPUShaderStage.COMPUTE, buffer: { type: 'uniform' } },
      ];
      for (let i = 0; i < numInputs; i++) {
        entries.push({ binding: 1 + i, visibility: GPUShaderStage.COMPUTE, buffer: { type: 'read-only-storage' } });
      }
      for (let i = 0; i < numOutputs; i++) {
        entries.push({ binding: 1 + numInputs + i, visibility: GPUShaderStage.COMPUTE, buffer: { type: 'storage' } });
      }
      l = this.device.createBindGroupLayout({ entries });
      this.layouts.set(id, l);
    }
    return l;
  }

  clear(): void {
    this.pipelines.clear();
    this.modules.clear();
    this.layouts.clear();
  }
}
