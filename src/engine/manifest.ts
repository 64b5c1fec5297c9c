import { createReadStream, closeSync, openSync, writeSync } from 'node:fs';
import { UsageError } from '../errors.js';
import type { UploadJob } from '../inputs/check.js';
import { jsonLine, type Redact, unprintableId } from '../untrusted.js';
import { toResultRecord, type UploadResult } from './run.js';
import type { EarlierUpload, ResultsStore } from './store.js';

/**
 * The NDJSON manifest as a results store: one result record a line, appended as each input finishes, and
 * read back for `--resume`. Each line is written with one synchronous write straight to the file, so a crash
 * or a kill right after loses nothing that finished, and a line is never half-written by this process.
 */
export class ManifestStore implements ResultsStore {
  readonly path: string;
  /** Lines of the manifest that `--resume` could not use (see `UploadedIndex`). */
  readonly unreadableLines: number;
  private readonly index: UploadedIndex | undefined;
  private readonly fd: number | undefined;
  private readonly redact: Redact | undefined;

  private constructor(path: string, index: UploadedIndex | undefined, fd: number | undefined, redact: Redact | undefined) {
    this.path = path;
    this.index = index;
    this.unreadableLines = index?.unreadableLines ?? 0;
    this.fd = fd;
    this.redact = redact;
  }

  /**
   * Opens a manifest: read first when `resume` (a missing file is an empty one: the first run of a batch),
   * then opened for appending unless `write` is false (a dry run changes nothing). `redact` takes the API
   * secret out of every value written (a file name may hold it too).
   */
  static async open(path: string, options: { resume?: boolean; write?: boolean; redact?: Redact } = {}): Promise<ManifestStore> {
    const index = options.resume ? await readManifest(path) : undefined;
    let fd: number | undefined;
    if (options.write ?? true) {
      try {
        fd = openSync(path, 'a');
      } catch (error) {
        throw new UsageError(`Cannot open the manifest ${path} for writing: ${(error as { code?: string }).code ?? String(error)}.`);
      }
    }
    return new ManifestStore(path, index, fd, options.redact);
  }

  uploadedBefore(job: UploadJob): EarlierUpload | undefined {
    const id = this.index && previousUpload(this.index, job);
    return id ? { livenessDataId: id, where: this.path } : undefined;
  }

  record(result: UploadResult): void {
    if (this.fd === undefined || result.resumed) return;
    writeSync(this.fd, `${jsonLine(toResultRecord(result), this.redact)}\n`);
  }

  close(): void {
    if (this.fd !== undefined) closeSync(this.fd);
  }
}

/** What a manifest shows as already uploaded: by content for files, by URL for URLs. */
export interface UploadedIndex {
  readonly bySha256: ReadonlyMap<string, string>;
  readonly byUrl: ReadonlyMap<string, string>;
  /**
   * Lines that are not records (a line cut short by a power loss, say), or whose id could not be printed as
   * one (control characters, only white space): ignored, and counted here.
   */
  readonly unreadableLines: number;
}

/** Reads a manifest for `--resume`; a missing file is an empty one (the first run of a batch). */
export async function readManifest(path: string): Promise<UploadedIndex> {
  const bySha256 = new Map<string, string>();
  const byUrl = new Map<string, string>();
  let unreadableLines = 0;
  try {
    // node:readline is loaded here, for --resume only: every upload loads this module.
    const { createInterface } = process.getBuiltinModule('node:readline');
    const lines = createInterface({ input: createReadStream(path, { encoding: 'utf8' }), crlfDelay: Number.POSITIVE_INFINITY });
    for await (const line of lines) {
      if (line.trim() === '') continue;
      const record = parseRecord(line);
      if (!record) unreadableLines++;
      else if (record.ok && record.id && record.kind === 'url') byUrl.set(normalizeUrl(record.input), record.id);
      else if (record.ok && record.id && record.sha256) bySha256.set(record.sha256, record.id);
    }
  } catch (error) {
    const code = (error as { code?: string }).code;
    if (code !== 'ENOENT') throw new UsageError(`Cannot read the manifest ${path}: ${code ?? String(error)}.`);
  }
  return { bySha256, byUrl, unreadableLines };
}

/** The id a manifest already holds for this job, if it was uploaded before. */
export function previousUpload(index: UploadedIndex, job: UploadJob): string | undefined {
  if (job.kind === 'url') return index.byUrl.get(normalizeUrl(job.input));
  return job.sha256 ? index.bySha256.get(job.sha256) : undefined;
}

interface ManifestRecord {
  input: string;
  kind: string;
  sha256?: string;
  ok: boolean;
  id?: string;
}

function parseRecord(line: string): ManifestRecord | undefined {
  try {
    // A manifest saved again by a Windows editor may start with a byte-order mark: it is not part of the record.
    const value = JSON.parse(line.charCodeAt(0) === 0xfeff ? line.slice(1) : line) as Record<string, unknown>;
    if (typeof value !== 'object' || value === null || typeof value.input !== 'string') return undefined;
    // An id that cannot be printed as one (a manifest edited by hand, or written from a hostile answer by an
    // older linkface) is not replayed.
    if (typeof value.liveness_data_id === 'string' && unprintableId(value.liveness_data_id)) return undefined;
    return {
      input: value.input,
      kind: typeof value.kind === 'string' ? value.kind : 'file',
      sha256: typeof value.sha256 === 'string' ? value.sha256 : undefined,
      ok: value.ok === true,
      id: typeof value.liveness_data_id === 'string' ? value.liveness_data_id : undefined,
    };
  } catch {
    return undefined;
  }
}

function normalizeUrl(url: string): string {
  try {
    return new URL(url).href;
  } catch {
    return url;
  }
}
