/**
 * Storage buffers recycled by byte size. A training step allocates the same shapes every step, so
 * exact-size reuse keeps allocation flat. Free buffers above a byte cap are destroyed, but only after
 * the pending commands that may still use them were submitted (`onSubmitted`).
 */
export class BufferPool {
  private free = new Map<number, GPUBuffer[]>();
  private freeBytes = 0;
  private inUse = 0;
  private toDestroy: GPUBuffer[] = [];
  private usage: number;

  constructor(private device: GPUDevice, private maxFreeBytes = 256 * 1024 * 1024) {
    // GPUBufferUsage is read here, not at import: in Node it exists only once Dawn's globals are installed.
    this.usage = GPUBufferUsage.STORAGE | GPUBufferUsage.COPY_SRC | GPUBufferUsage.COPY_DST;
  }

  /** Rounds to 16 bytes so neighbouring sizes share buckets and bindings stay aligned. */
  static bucket(bytes: number): number {
    return Math.max(16, Math.ceil(bytes / 16) * 16);
  }

  acquire(bytes: number): GPUBuffer {
    const size = BufferPool.bucket(bytes);
    const list = this.free.get(size);
    this.inUse++;
    if (list && list.length > 0) {
      this.freeBytes -= size;
      return list.pop()!;
    }
    return this.device.createBuffer({ size, usage: this.usage });
  }

  release(buf: GPUBuffer): void {
    this.inUse--;
    const size = buf.size;
    if (this.freeBytes + size > this.maxFreeBytes) {
      this.toDestroy.push(buf);
      return;
    }
    let list = this.free.get(size);
    if (!list) this.free.set(size, (list = []));
    list.push(buf);
    this.freeBytes += size;
  }

  /** Called after each queue submit: buffers evicted since can now be destroyed safely. */
  onSubmitted(): void {
    for (const b of this.toDestroy) b.destroy();
    this.toDestroy = [];
  }

  /** Buffers handed out and not yet released: the leak check watches this. */
  get live(): number {
    return this.inUse;
  }

  get pooledBytes(): number {
    return this.freeBytes;
  }

  dispose(): void {
    for (const list of this.free.values()) for (const b of list) b.destroy();
    this.free.clear();
    this.freeBytes = 0;
    this.onSubmitted();
  }
}
