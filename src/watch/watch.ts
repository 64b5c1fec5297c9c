import { stat } from 'node:fs/promises';
import { join, resolve } from 'node:path';
import { uploadStream } from '../engine/batch.js';
import { ManifestStore } from '../engine/manifest.js';
import type { AccountPauseEvent } from '../engine/pause.js';
import type { AttemptEvent, UploadResult, UploadSender } from '../engine/run.js';
import type { ResultsStore } from '../engine/store.js';
import { UsageError } from '../errors.js';
import { createPathFilter } from '../inputs/expand.js';
import type { Redact } from '../untrusted.js';
import { type ActionDone, type AfterUpload, afterUpload } from './actions.js';
import { FolderScanner } from './scanner.js';

export type { AfterUpload } from './actions.js';

/** How a folder is watched, and what becomes of its files. */
export interface WatchOptions {
  /** Where results are kept, and what earlier runs uploaded: required, so that a restart repeats nothing. */
  readonly store: ResultsStore;
  /** A file unchanged (size and modification time) for this long is complete; default 2,000 ms. */
  readonly settleMs?: number;
  /** The folder is listed again this often, besides file-system events; default 30,000 ms. */
  readonly rescanMs?: number;
  /** Only files (paths relative to the folder) matching one of these globs. */
  readonly include?: readonly string[];
  /** Never files matching one of these globs. */
  readonly exclude?: readonly string[];
  /** After an upload: `'keep'` (default), `'delete'` or `{ moveTo: dir }` (with `<name>.json` beside it). */
  readonly onSuccess?: AfterUpload;
  /** After a failed upload: `'keep'` (default: not taken again until it changes) or `{ moveTo: dir }`. */
  readonly onFailure?: 'keep' | { readonly moveTo: string };
  /** Aborting stops the watch: nothing new starts, uploads in flight finish, then `done()` resolves. */
  readonly signal?: AbortSignal;
  /** Aborting abandons uploads in flight too (they are taken again at the next start). */
  readonly cancelSignal?: AbortSignal;
  /** Largest file accepted, bytes; default 5 MiB. */
  readonly maxSizeBytes?: number;
  /** Where a relative folder is resolved; the process's current directory by default. */
  readonly cwd?: string;
  /** Each file's result, once what `onSuccess`/`onFailure` says was done. */
  onResult?(result: WatchResult): void;
  onAttempt?(event: AttemptEvent): void;
  /** An account error paused uploading (or a check found it still failing): when the next check is. */
  onPause?(event: AccountPauseEvent): void;
  /** The account accepts uploads again. */
  onResume?(): void;
  /** Something the user should hear of: a folder that cannot be read or watched, a move that failed. */
  onProblem?(message: string): void;
}

/** A file's upload result, and where the file is now. */
export interface WatchResult extends UploadResult {
  /**
   * `kept`, `deleted`, `moved` (to `movedTo`, record in `recordPath`), or `left`: not finished (the watch was
   * stopping, or the file is looked at again), so taken again later.
   */
  readonly file: 'kept' | 'deleted' | 'moved' | 'left';
  readonly movedTo?: string;
  readonly recordPath?: string;
}

/** What a watch has done so far. */
export interface WatchCounts {
  /** Files taken (complete) and handed to the upload pipeline. */
  taken: number;
  uploaded: number;
  /** Found uploaded by an earlier run (the store): not sent again. */
  resumed: number;
  failed: number;
}

/** The engine's share of a watch: the sender and the settings the client has. */
export interface WatchEngine {
  readonly sender: UploadSender;
  readonly retries: number;
  readonly concurrency: number;
  /** Takes the secret out of result records written beside moved files. */
  readonly redact?: Redact;
}

/**
 * A folder being watched: each complete file uploaded once, through the same pipeline as a batch (an
 * endless one), its result recorded in the store and the file then kept, deleted or moved.
 */
export class FolderWatch {
  readonly counts: WatchCounts = { taken: 0, uploaded: 0, resumed: 0, failed: 0 };
  private readonly scanner: FolderScanner;
  private readonly finished: Promise<void>;

  private constructor(scanner: FolderScanner, run: (watch: FolderWatch) => Promise<void>) {
    this.scanner = scanner;
    this.finished = run(this);
  }

  /** Files noticed and not complete yet, and complete ones waiting for an upload slot. */
  get waiting(): number {
    return this.scanner.waiting;
  }

  /** Resolves once the watch stopped (its `signal` aborted) and what was in flight finished. */
  done(): Promise<void> {
    return this.finished;
  }

  /** Starts watching `dir`: files already there are taken like new ones. */
  static async start(dir: string, engine: WatchEngine, options: WatchOptions): Promise<FolderWatch> {
    const cwd = options.cwd ?? process.cwd();
    const root = resolve(cwd, dir);
    const info = await stat(root).catch(() => undefined);
    if (!info?.isDirectory()) throw new UsageError(`${dir} is not a folder: linkface watch needs the folder to watch.`);
    // Move folders are relative to `cwd` when one is given (as paths in output stay as given otherwise).
    const inCwd = <T extends AfterUpload>(action: T): T =>
      typeof action === 'object' && options.cwd !== undefined ? ({ moveTo: resolve(cwd, action.moveTo) } as T) : action;
    const onSuccess = inCwd(options.onSuccess ?? 'keep');
    const onFailure = inCwd(options.onFailure ?? 'keep');
    const moves = [onSuccess, onFailure].flatMap((action) => (typeof action === 'object' ? [resolve(cwd, action.moveTo)] : []));
    if (moves.includes(root)) throw new UsageError('A move:<dir> folder must not be the watched folder itself.');
    const excluded = [...moves, ...(options.store instanceof ManifestStore ? [resolve(cwd, options.store.path)] : [])];
    const scanner = new FolderScanner({
      root,
      settleMs: options.settleMs ?? 2000,
      rescanMs: options.rescanMs ?? 30_000,
      wanted: await createPathFilter(options.include ?? [], options.exclude ?? []),
      excluded,
      problem: (message) => options.onProblem?.(message),
    });
    const stopping = () => options.signal?.aborted ?? false;
    if (options.signal?.aborted) scanner.stop();
    else options.signal?.addEventListener('abort', () => scanner.stop(), { once: true });
    await scanner.start();
    return new FolderWatch(scanner, async (watch) => {
      // The input each file is uploaded as (the folder as given, joined with the file's path in it).
      const relativeOf = new Map<string, string>();
      const actions = new Set<Promise<void>>();
      /** Files that could not be read once: looked at again once; a second time, they failed. */
      const unreadableOnce = new Set<string>();
      async function* inputs(): AsyncGenerator<string> {
        for await (const path of scanner) {
          const input = join(dir, path);
          relativeOf.set(input, path);
          watch.counts.taken++;
          yield input;
        }
      }
      const settle = async (result: UploadResult, path: string): Promise<void> => {
        const unreadable = result.status === 'INVALID_INPUT' || (result.status === 'SKIPPED' && /EBUSY|EPERM|changed size/.test(result.reason ?? ''));
        const gone = result.status === 'SKIPPED' && /no such file/.test(result.reason ?? '');
        if (result.status === 'NOT_ATTEMPTED' || (stopping() && !result.ok && result.retryable) || gone || (unreadable && !unreadableOnce.has(path))) {
          if (unreadable) unreadableOnce.add(path);
          scanner.release(path, gone ? 'gone' : 'again');
          options.onResult?.({ ...result, file: 'left' });
          return;
        }
        unreadableOnce.delete(path);
        if (result.resumed) watch.counts.resumed++;
        else if (result.ok) watch.counts.uploaded++;
        else watch.counts.failed++;
        let done: ActionDone = { kind: 'kept' };
        try {
          done = await afterUpload(result.ok ? onSuccess : onFailure, join(root, path), path, result, engine.redact);
        } catch (error) {
          options.onProblem?.(`${join(dir, path)}: ${result.ok ? '--on-success' : '--on-failure'} failed (${(error as { code?: string }).code ?? String(error)}); the file stays where it is`);
        }
        scanner.release(path, done.kind === 'kept' ? 'kept' : 'gone');
        options.onResult?.(
          done.kind === 'moved' ? { ...result, file: 'moved', movedTo: done.to, recordPath: done.record } : { ...result, file: done.kind },
        );
      };
      try {
        await uploadStream(
          inputs(),
          engine.sender,
          {
            retries: engine.retries,
            concurrency: engine.concurrency,
            stopSignal: options.signal,
            cancelSignal: options.cancelSignal,
            store: options.store,
            keepResults: false,
            reuseFileBuffers: true,
            accountErrors: 'pause',
            cwd,
            maxSizeBytes: options.maxSizeBytes,
          },
          {
            onAttempt: options.onAttempt,
            onPause: options.onPause,
            onResume: options.onResume,
            onResult: (result) => {
              const path = relativeOf.get(result.input) ?? result.input;
              relativeOf.delete(result.input);
              const action = settle(result, path).finally(() => actions.delete(action));
              actions.add(action);
            },
          },
        );
      } finally {
        scanner.stop();
        await Promise.all(actions);
      }
    });
  }
}
