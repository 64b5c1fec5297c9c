import type { UploadJob } from '../inputs/check.js';
import type { UploadResult } from './run.js';

/** What a results store knows of an input uploaded by an earlier run. */
export interface EarlierUpload {
  readonly livenessDataId: string;
  /** Where that was recorded, for people: the manifest's path, a table's name. */
  readonly where: string;
}

/**
 * Where a batch keeps its results, so that a later run uploads only what is missing (resume): the port a
 * library user can implement over a database or a key-value store. The NDJSON manifest
 * (`ManifestStore`, src/engine/manifest.ts) is the file-backed implementation. Uploads are keyed by content
 * (SHA-256) for files and by URL for URLs.
 */
export interface ResultsStore {
  /** The upload an earlier run made of this job's content or URL; undefined when there was none. */
  uploadedBefore(job: UploadJob): EarlierUpload | undefined | Promise<EarlierUpload | undefined>;
  /** Keeps one settled result (uploaded or not). Inputs found by `uploadedBefore` are not recorded again. */
  record(result: UploadResult): void | Promise<void>;
  /**
   * Optional: called just before a job is first sent. A store that keeps it can tell, after a crash, which
   * uploads were sent and never recorded: they may have been stored (see `ManifestStore.unfinished`).
   */
  sending?(job: UploadJob): void | Promise<void>;
}

/** The result for an input an earlier run uploaded: not sent again, reported with the id the store holds. */
export function resumedResult(job: UploadJob, earlier: EarlierUpload): UploadResult {
  return {
    input: job.input,
    kind: job.kind,
    sha256: job.sha256,
    bytes: job.bytes,
    ok: true,
    status: 'OK',
    livenessDataId: earlier.livenessDataId,
    resumed: true,
    reason: `already uploaded as ${earlier.livenessDataId} (${earlier.where})`,
    retryable: false,
    attempts: 0,
    ms: 0,
    at: new Date().toISOString(),
  };
}
