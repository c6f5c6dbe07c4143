/**
 * The dispatcher every WebGPU op goes through: tensors on pooled GPU buffers, one command encoder
 * batching all dispatches until something must be read back, uniforms packed from typed fields.
 *
 * Ordering rules that keep recycled buffers safe:
 * - a released storage buffer may be handed to a later dispatch in the same encoder (commands run in
 *   order), but queue.writeBuffer runs before the pending encoder, so uploads flush first;
 * - uniform buffers are written with queue.writeBuffer, so they are recycled only after a submit.
 */
import { sizeOf, type BTensor, type Shape } from '../backend.ts';
import { BufferPool } from './buffer-pool.ts';
import { PipelineCache } from './pipeline-cache.ts';

export class GpuTensor implements BTensor {
  released = false;
  constructor(readonly shape: Shape, readonly size: number, readonly buffer: GPUBuffer) {}
}

export type ParamValue = readonly ['u32' | 'i32' | 'f32', number];
export const u32 = (v: number): ParamValue => ['u32', v];
export const i32 = (v: number): ParamValue => ['i32', v];
export const f32 = (v: number): ParamValue => ['f32', v];

export interface DispatchSpec {
  /** Shader variant key for the pipeline cache (e.g. 'elementwise'); shapes go in params, not here. */
  key: string;
  code: string;
  entry: string;
  /** Values of the entry point's `override` constants (part of the pipeline cache key). */
  constants?: Readonly<Record<string, number>>;
  inputs: readonly GpuTensor[];
  outputs: readonly GpuTensor[];
  /** Fields of the shader's `Params` uniform struct, in declaration order (all 4-byte scalars). */
  params: readonly ParamValue[];
  workgroups: readonly [number, number?, number?];
}

export const WORKGROUP_1D = 256;
const MAX_GROUPS = 65535;

/** Workgroup counts for `threads` invocations of a 1-D kernel of `wg` lanes; the kernel computes
 *  its flat index as gid.x + gid.y * num_workgroups.x * wg and bounds-checks it. */
export function grid1d(threads: number, wg = WORKGROUP_1D): [number, number] {
  const groups = Math.max(1, Math.ceil(threads / wg));
  const x = Math.min(groups, MAX_GROUPS);
  return [x, Math.ceil(groups / x)];
}

export class GpuContext {
  readonly pool: BufferPool;
  readonly pipelines: PipelineCache;
  private encoder: GPUCommandEncoder | null = null;
  private pass: GPUComputePassEncoder | null = null;
  private uniformFree = new Map<number, GPUBuffer[]>();
  private uniformPending: GPUBuffer[] = [];
  private lostInfo: GPUDeviceLostInfo | null = null;
  dispatches = 0;

  constructor(readonly device: GPUDevice) {
    this.pool = new BufferPool(device);
    this.pipelines = new PipelineCache(device);
    device.lost.then((info) => {
      this.lostInfo = info;
    });
    // A WGSL or validation error otherwise only reaches the console and the dispatch silently does
    // nothing; keep the first one and throw it at the next operation.
    device.addEventListener('uncapturederror', (e) => {
      this.gpuError ??= (e as GPUUncapturedErrorEvent).error.message;
    });
  }

  private gpuError: string | null = null;

  /** Set once the device is lost; the engine must be re-created (training resumes from a checkpoint). */
  get lost(): GPUDeviceLostInfo | null {
    return this.lostInfo;
  }

  private checkAlive(): void {
    if (this.lostInfo) throw new Error(`WebGPU device lost (${this.lostInfo.reason}): ${this.lostInfo.message}`);
    if (this.gpuError) {
      const message = this.gpuError;
      this.gpuError = null;
      throw new Error(`WebGPU error: ${message}`);
    }
  }

  empty(shape: Shape): GpuTensor {
    this.checkAlive();
    const size = sizeOf(shape);
    return new GpuTensor([...shape], size, this.pool.acquire(size * 4));
  }

  zeros(shape: Shape): GpuTensor {
    const t = this.empty(shape);
    this.ensurePassClosed().clearBuffer(t.buffer);
    return t;
  }

  upload(data: Float32Array, shape: Shape): GpuTensor {
    const size = sizeOf(shape);
    if (data.length !== size) throw new Error(`upload: ${data.length} values for shape [${shape}]`);
    // A recycled buffer may still be read by pending commands; writeBuffer would overtake them.
    this.flush();
    const t = this.empty(shape);
    this.device.queue.writeBuffer(t.buffer, 0, data.buffer, data.byteOffset, data.byteLength);
    return t;
  }

  release(t: GpuTensor): void {
    if (t.released) throw new Error(`double release of a tensor of shape [${t.shape}]`);
    t.released = true;
    this.pool.release(t.buffer);
  }

  copy(src: GpuTensor, dst: GpuTensor): void {
    this.ensurePassClosed().copyBufferToBuffer(src.buffer, 0, dst.buffer, 0, src.size * 4);
  }

  run(spec: DispatchSpec): void {
    this.checkAlive();
    for (const t of spec.inputs) if (t.released) throw new Error(`${spec.key}.${spec.entry}: input already released`);
    const { pipeline, layout } = this.pipelines.get({
      key: spec.key, code: spec.code, entry: spec.entry,
      numInputs: spec.inputs.length, numOutputs: spec.outputs.length, constants: spec.constants,
    });
    const uniform = this.uniform(spec.params);
    const entries: GPUBindGroupEntry[] = [{ binding: 0, resource: { buffer: uniform } }];
    spec.inputs.forEach((t, i) => entries.push({ binding: 1 + i, resource: { buffer: t.buffer, size: Math.max(16, t.size * 4) } }));
    spec.outputs.forEach((t, i) => entries.push({
      binding: 1 + spec.inputs.length + i, resource: { buffer: t.buffer, size: Math.max(16, t.size * 4) },
    }));
    const bindGroup = this.device.createBindGroup({ layout, entries });
    const pass = this.ensurePass();
    pass.setPipeline(pipeline);
    pass.setBindGroup(0, bindGroup);
    const [x, y = 1, z = 1] = spec.workgroups;
    pass.dispatchWorkgroups(x, y, z);
    this.dispatches++;
  }

  private uniform(params: readonly ParamValue[]): GPUBuffer {
    const bytes = Math.max(16, Math.ceil((params.length * 4) / 16) * 16);
    const data = new ArrayBuffer(bytes);
    const view = new DataView(data);
    params.forEach(([type, v], i) => {
      if (type === 'f32') view.setFloat32(i * 4, v, true);
      else if (type === 'i32') view.setInt32(i * 4, v, true);
      else view.setUint32(i * 4, v, true);
    });
    const list = this.uniformFree.get(bytes);
    const buf = list && list.length > 0 ? list.pop()! : this.device.createBuffer({
      size: bytes, usage: GPUBufferUsage.UNIFORM | GPUBufferUsage.COPY_DST,
    });
    this.device.queue.writeBuffer(buf, 0, data);
    this.uniformPending.push(buf);
    return buf;
  }

  private ensureEncoder(): GPUCommandEncoder {
    if (!this.encoder) this.encoder = this.device.createCommandEncoder();
    return this.encoder;
  }

  private ensurePass(): GPUComputePassEncoder {
    if (!this.pass) this.pass = this.ensureEncoder().beginComputePass();
    return this.pass;
  }

  private ensurePassClosed(): GPUCommandEncoder {
    if (this.pass) {
      this.pass.end();
      this.pass = null;
    }
    return this.ensureEncoder();
  }

  flush(): void {
    if (this.encoder) {
      const enc = this.ensurePassClosed();
      this.encoder = null;
      this.device.queue.submit([enc.finish()]);
    }
    for (const b of this.uniformPending) {
      let list = this.uniformFree.get(b.size);
      if (!list) this.uniformFree.set(b.size, (list = []));
      list.push(b);
    }
    this.uniformPending = [];
    this.pool.onSubmitted();
  }

  async read(t: GpuTensor): Promise<Float32Array> {
    this.checkAlive();
    if (t.released) throw new Error('read of a released tensor');
    const bytes = t.size * 4;
    const staging = this.device.createBuffer({ size: Math.max(16, bytes), usage: GPUBufferUsage.MAP_READ | GPUBufferUsage.COPY_DST });
    this.ensurePassClosed().copyBufferToBuffer(t.buffer, 0, staging, 0, bytes);
    this.flush();
    await staging.mapAsync(GPUMapMode.READ);
    this.checkAlive();
    const out = new Float32Array(staging.getMappedRange(0, bytes).slice(0));
    staging.unmap();
    staging.destroy();
    return out;
  }

  async sync(): Promise<void> {
    this.flush();
    await this.device.queue.onSubmittedWorkDone();
    this.checkAlive();
  }

  dispose(): void {
    this.flush();
    this.pool.dispose();
    for (const list of this.uniformFree.values()) for (const b of list) b.destroy();
    this.uniformFree.clear();
    this.pipelines.clear();
  }
}
