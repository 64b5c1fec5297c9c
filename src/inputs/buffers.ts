/**
 * Memory for small files' bytes, reused from one upload to the next. A batch reads thousands of files of some
 * 100 KB; allocated one by one and left to the garbage collector, they fragment the C heap, and a long batch's
 * resident memory creeps up by tens of megabytes. A pool hands out views of fixed-size slabs instead, and
 * takes a slab back only when nothing can read it any more (the caller's rule: see runUploads).
 */
export class FileBufferPool {
  private readonly free: ArrayBuffer[] = [];
  private readonly slabs = new WeakSet<ArrayBuffer>();

  constructor(private readonly slabBytes: number) {}

  /** Uninitialised memory for `size` bytes: a view of a pooled slab, or a buffer of its own when larger. */
  take(size: number): Buffer {
    if (size > this.slabBytes) return Buffer.allocUnsafeSlow(size);
    let slab = this.free.pop();
    if (slab === undefined) {
      slab = Buffer.allocUnsafeSlow(this.slabBytes).buffer as ArrayBuffer;
      this.slabs.add(slab);
    }
    return Buffer.from(slab, 0, size);
  }

  /** Takes back the slab under `data` for reuse; anything not handed out by this pool is left alone. */
  give(data: Uint8Array): void {
    const slab = data.buffer as ArrayBuffer;
    if (this.slabs.has(slab) && !this.free.includes(slab)) this.free.push(slab);
  }
}
