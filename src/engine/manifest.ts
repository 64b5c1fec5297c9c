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
  /**
   * With `journal`: uploads an earlier run started (a `"sending":true` line) and never recorded a result for,
   * because it was killed or crashed meanwhile. The server may have stored them: sending one again may store
   * it twice.
   */
  readonly unfinished: readonly UnfinishedUpload[];
  private readonly index: UploadedIndex | undefined;
  private readonly fd: number | undefined;
  private readonly redact: Redact | undefined;
  private readonly journal: boolean;

  private constructor(path: string, index: UploadedIndex | undefined, fd: number | undefined, options: { redact?: Redact; journal?: boolean }) {
    this.path = path;
    this.index = index;
    this.unreadableLines = index?.unreadableLines ?? 0;
    this.unfinished = index?.unfinished ?? [];
    this.fd = fd;
    this.redact = options.redact;
    this.journal = Boolean(options.journal);
  }

  /**
   * Opens a manifest: read first when `resume` (a missing file is an empty one: the first run of a batch),
   * then opened for appending unless `write` is false (a dry run changes nothing). `redact` takes the API
   * secret out of every value written (a file name may hold it too). `journal` also writes a line
   * (`"sending":true`, no `ok`) as each upload starts, so that a later run can tell which ones a crash cut off.
   */
  static async open(path: string, options: { resume?: boolean; write?: boolean; redact?: Redact; journal?: boolean } = {}): Promise<ManifestStore> {
    const index = options.resume ? await readManifest(path) : undefined;
    let fd: number | undefined;
    if (options.write ?? true) {
      try {
        fd = openSync(path, 'a');
      } catch (error) {
        throw new UsageError(`Cannot open the manifest ${path} for writing: ${(error as { code?: string }).code ?? String(error)}.`);
      }
    }
    return new ManifestStore(path, index, fd, options);
  }

  uploadedBefore(job: UploadJob): EarlierUpload | undefined {
    const id = this.index && previousUpload(this.index, job);
    return id ? { livenessDataId: id, where: this.path } : undefined;
  }

  record(result: UploadResult): void {
    if (this.fd === undefined || result.resumed) return;
    writeSync(this.fd, `${jsonLine(toResultRecord(result), this.redact)}\n`);
  }

  sending(job: UploadJob): void {
    if (this.fd === undefined || !this.journal) return;
    const line = { input: job.input, kind: job.kind, sha256: job.sha256, bytes: job.bytes, sending: true, at: new Date().toISOString() };
    writeSync(this.fd, `${jsonLine(line, this.redact)}\n`);
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
  /** Uploads started (`"sending":true`) with no result recorded after: see `ManifestStore.unfinished`. */
  readonly unfinished: readonly UnfinishedUpload[];
}

/** An upload a run started and never recorded a result for. */
export interface UnfinishedUpload {
  readonly input: string;
  readonly sha256?: string;
  /** When it was sent, ISO 8601. */
  readonly at: string;
}

/** Reads a manifest for `--resume`; a missing file is an empty one (the first run of a batch). */
export async function readManifest(path: string): Promise<UploadedIndex> {
  const bySha256 = new Map<string, string>();
  const byUrl = new Map<string, string>();
  let unreadableLines = 0;
  // Started uploads by input and content, removed when a result for the same input and content follows.
  const started = new Map<string, UnfinishedUpload>();
  const key = (record: { input: string; sha256?: string }) => `${record.sha256 ?? ''}\n${record.input}`;
  try {
    // node:readline is loaded here, for --resume only: every upload loads this module.
    const { createInterface } = process.getBuiltinModule('node:readline');
    const lines = createInterface({ input: createReadStream(path, { encoding: 'utf8' }), crlfDelay: Number.POSITIVE_INFINITY });
    for await (const line of lines) {
      if (line.trim() === '') continue;
      const record = parseRecord(line);
      if (!record) {
        unreadableLines++;
        continue;
      }
      if (record.sending) {
        started.set(key(record), { input: record.input, sha256: record.sha256, at: record.at ?? '' });
        continue;
      }
      started.delete(key(record));
      if (record.ok && record.id && record.kind === 'url') byUrl.set(normalizeUrl(record.input), record.id);
      else if (record.ok && record.id && record.sha256) bySha256.set(record.sha256, record.id);
    }
  } catch (error) {
    const code = (error as { code?: string }).code;
    if (code !== 'ENOENT') throw new UsageError(`Cannot read the manifest ${path}: ${code ?? String(error)}.`);
  }
  return { bySha256, byUrl, unreadableLines, unfinished: [...started.values()] };
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
  sending: boolean;
  at?: string;
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
      sending: value.sending === true,
      at: typeof value.at === 'string' ? value.at : undefined,
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
