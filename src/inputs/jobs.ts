import { basename, resolve } from 'node:path';
import type { UploadJob } from './check.js';
import { PackedStrings, readOnlyArray } from './packed.js';

/**
 * The checked jobs of a batch, held compactly: for a file, its name and its size; the UploadJob itself (with
 * its payload) is made each time one is read, as the batch is about to upload it. URLs and standard input,
 * few in any batch, are kept as the jobs they are. Memory then grows by some 40 bytes an input, outside the
 * JavaScript heap, instead of the 300 bytes of heap that a job object with its payload, path and file name
 * take.
 */
export class JobList implements Iterable<UploadJob> {
  private readonly names = new PackedStrings();
  private sizes = new Float64Array(1024);
  /** Jobs that are not files on disk (URLs, standard input), by their index. */
  private readonly others = new Map<number, UploadJob>();

  /** @param cwd where the names of files are relative to */
  constructor(private readonly cwd: string) {}

  get length(): number {
    return this.names.length;
  }

  /** A checked file of `bytes` bytes, named as the user gave it. */
  pushFile(input: string, bytes: number): void {
    if (this.length === this.sizes.length) {
      const sizes = new Float64Array(this.sizes.length * 2);
      sizes.set(this.sizes);
      this.sizes = sizes;
    }
    this.sizes[this.length] = bytes;
    this.names.push(input);
  }

  /** Any other checked job (a URL, standard input), kept as it is. */
  pushJob(job: UploadJob): void {
    this.pushFile(job.input, 0);
    this.others.set(this.length - 1, job);
  }

  /** The job at `index`, from 0 to length - 1: a new object at each call. */
  at(index: number): UploadJob {
    const other = this.others.get(index);
    if (other) return other;
    const input = this.names.at(index);
    const bytes = this.sizes[index] as number;
    const path = resolve(this.cwd, input);
    return { input, kind: 'file', bytes, payload: { kind: 'file', path, filename: basename(path), bytes } };
  }

  *[Symbol.iterator](): Iterator<UploadJob> {
    for (let i = 0; i < this.length; i++) yield this.at(i);
  }

  /**
   * The jobs as a read-only array, for callers that take `readonly UploadJob[]`: indexing, `length`, iteration
   * and every array method work, and each job is made as it is read. Writes are refused.
   */
  asArray(): readonly UploadJob[] {
    return readOnlyArray(this);
  }
}
