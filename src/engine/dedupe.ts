import type { UploadJob } from '../inputs/check.js';
import type { UploadResult } from './run.js';

/** What a later input with the same content takes from the first one's result (the rest is its own). */
export type FirstUpload = Pick<UploadResult, 'input' | 'ok' | 'status' | 'livenessDataId' | 'requestId' | 'httpStatus' | 'reason' | 'retryable'>;

/**
 * The same content twice in one run is uploaded once: the first input with it is uploaded, later ones wait
 * for it and report its id (or its failure). Only what a later input needs of the first result is kept.
 */
export class SameContentUploads {
  private readonly first = new Map<string, Promise<FirstUpload> | FirstUpload>();

  /** The first upload of this content, still running or settled; undefined for content not seen yet. */
  earlier(sha256: string | undefined): Promise<FirstUpload> | FirstUpload | undefined {
    return sha256 === undefined ? undefined : this.first.get(sha256);
  }

  /** Remembers `upload` as the first of its content. A failure of `upload` itself reaches its own caller. */
  track(sha256: string | undefined, upload: Promise<UploadResult>): void {
    if (sha256 === undefined) return;
    const settled = upload.then((result) => {
      const kept = firstUpload(result);
      this.first.set(sha256, kept);
      return kept;
    });
    settled.catch(() => {});
    this.first.set(sha256, settled);
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
