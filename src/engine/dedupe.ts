import type { UploadJob } from '../inputs/check.js';
import type { UploadResult } from './run.js';

/** What a later input with the same content takes from the first one's result (the rest is its own). */
export type FirstUpload = Pick<UploadResult, 'input' | 'ok' | 'status' | 'livenessDataId' | 'requestId' | 'httpStatus' | 'reason' | 'retryable'>;

/**
 * The same content twice in one run is uploaded once: the first input with it is uploaded, later ones wait
 * for it and report its id (or its failure). Only what a later input needs of the first result is kept, and
 * for a SHA-256 (every file's key) it is kept outside the JavaScript heap (see SettledUploads): a batch of
 * 100,000 distinct files keeps 100,000 of them.
 */
export class SameContentUploads {
  /** First uploads still going on. */
  private readonly running = new Map<string, Promise<FirstUpload>>();
  /** First uploads settled, by SHA-256. */
  private readonly settled = new SettledUploads();
  /** First uploads settled under a key that is not a SHA-256 in hex (a store's own key, a test's). */
  private readonly others = new Map<string, FirstUpload>();

  /** The first upload of this content, still running or settled; undefined for content not seen yet. */
  earlier(sha256: string | undefined): Promise<FirstUpload> | FirstUpload | undefined {
    if (sha256 === undefined) return undefined;
    return this.running.get(sha256) ?? (SHA256_HEX.test(sha256) ? this.settled.get(sha256) : this.others.get(sha256));
  }

  /** Remembers `upload` as the first of its content. A failure of `upload` itself reaches its own caller. */
  track(sha256: string | undefined, upload: Promise<UploadResult>): void {
    if (sha256 === undefined) return;
    const settled = upload.then((result) => {
      const kept = firstUpload(result);
      if (SHA256_HEX.test(sha256)) this.settled.set(sha256, kept);
      else this.others.set(sha256, kept);
      this.running.delete(sha256);
      return kept;
    });
    settled.catch(() => {});
    this.running.set(sha256, settled);
  }
}

const SHA256_HEX = /^[0-9a-f]{64}$/;

/**
 * Settled first uploads by SHA-256, in memory that is not the JavaScript heap: records written end to end in
 * chunks of bytes (the 32-byte digest, then the first upload as one JSON array), found through an
 * open-addressing hash table of their positions. As a Map of hex strings to objects, each entry held some 300
 * bytes of heap (the 64-character key, the object, its id and request id strings, the map's own slots), and V8
 * lets a heap grow to about four times what it holds before collecting it; here an entry takes some 180 bytes,
 * outside the heap.
 */
class SettledUploads {
  private static readonly CHUNK_BYTES = 1 << 20;
  private static readonly DIGEST_BYTES = 32;
  private count = 0;
  /** Per slot: 0 when empty, else 1 + where its record starts (chunk index × CHUNK_BYTES + offset). */
  private slots = new Float64Array(1024);
  private readonly chunks: Buffer[] = [];
  private used = SettledUploads.CHUNK_BYTES;
  /** Records too large for a chunk (a reason of a megabyte): kept as they are. */
  private readonly large = new Map<string, FirstUpload>();

  get(sha256: string): FirstUpload | undefined {
    const large = this.large.get(sha256);
    if (large) return large;
    const at = this.slots[this.find(Buffer.from(sha256, 'hex'))] as number;
    return at === 0 ? undefined : this.read(at - 1);
  }

  set(sha256: string, first: FirstUpload): void {
    const json = JSON.stringify([first.input, first.ok, first.status, first.livenessDataId, first.requestId, first.httpStatus, first.reason, first.retryable]);
    const bytes = SettledUploads.DIGEST_BYTES + 4 + Buffer.byteLength(json);
    if (bytes > SettledUploads.CHUNK_BYTES) {
      this.large.set(sha256, first);
      return;
    }
    if ((this.count + 1) * 4 > this.slots.length * 3) this.grow();
    const digest = Buffer.from(sha256, 'hex');
    const slot = this.find(digest);
    if (this.slots[slot] === 0) this.count++;
    if (this.used + bytes > SettledUploads.CHUNK_BYTES) {
      this.chunks.push(Buffer.allocUnsafeSlow(SettledUploads.CHUNK_BYTES));
      this.used = 0;
    }
    const chunk = this.chunks.at(-1) as Buffer;
    this.slots[slot] = 1 + (this.chunks.length - 1) * SettledUploads.CHUNK_BYTES + this.used;
    digest.copy(chunk, this.used);
    chunk.writeUInt32LE(bytes - SettledUploads.DIGEST_BYTES - 4, this.used + SettledUploads.DIGEST_BYTES);
    chunk.write(json, this.used + SettledUploads.DIGEST_BYTES + 4, 'utf8');
    this.used += bytes;
  }

  /** The slot of `digest`, or the empty slot where it goes: linear probing, a digest being its own hash. */
  private find(digest: Uint8Array, slots = this.slots): number {
    const mask = slots.length - 1;
    const hash = (digest[0] as number) | ((digest[1] as number) << 8) | ((digest[2] as number) << 16) | ((digest[3] as number) << 24);
    for (let slot = hash & mask; ; slot = (slot + 1) & mask) {
      const at = slots[slot] as number;
      if (at === 0) return slot;
      const { chunk, offset } = this.locate(at - 1);
      if (chunk.compare(digest, 0, SettledUploads.DIGEST_BYTES, offset, offset + SettledUploads.DIGEST_BYTES) === 0) return slot;
    }
  }

  private grow(): void {
    const old = this.slots;
    const slots = new Float64Array(old.length * 2);
    for (const at of old) {
      if (at === 0) continue;
      const { chunk, offset } = this.locate(at - 1);
      slots[this.find(chunk.subarray(offset, offset + SettledUploads.DIGEST_BYTES), slots)] = at;
    }
    this.slots = slots;
  }

  private locate(start: number): { chunk: Buffer; offset: number } {
    return { chunk: this.chunks[Math.floor(start / SettledUploads.CHUNK_BYTES)] as Buffer, offset: start % SettledUploads.CHUNK_BYTES };
  }

  private read(start: number): FirstUpload {
    const { chunk, offset } = this.locate(start);
    const from = offset + SettledUploads.DIGEST_BYTES + 4;
    const [input, ok, status, livenessDataId, requestId, httpStatus, reason, retryable] = JSON.parse(
      chunk.toString('utf8', from, from + chunk.readUInt32LE(from - 4)),
    ) as [string, boolean, FirstUpload['status'], string | null, string | null, number | null, string | null, boolean];
    return {
      input,
      ok,
      status,
      livenessDataId: livenessDataId ?? undefined,
      requestId: requestId ?? undefined,
      httpStatus: httpStatus ?? undefined,
      reason: reason ?? undefined,
      retryable,
    };
  }
}

/** The result of a later input with the same content as `first`. */
export function sameContentResult(job: UploadJob, first: FirstUpload): UploadResult {
  return {
    ...first,
    input: job.input,
    kind: job.kind,
    sha256: job.sha256,
    bytes: job.bytes,
    reason: first.ok ? `same content as ${first.input}, uploaded once` : first.reason,
    attempts: 0,
    ms: 0,
    at: new Date().toISOString(),
  };
}

function firstUpload({ input, ok, status, livenessDataId, requestId, httpStatus, reason, retryable }: UploadResult): FirstUpload {
  return { input, ok, status, livenessDataId, requestId, httpStatus, reason, retryable };
}
