import { type Dirent, type FSWatcher, readdir, stat, type Stats, watch } from 'node:fs';
import { join, sep } from 'node:path';
import { forEachConcurrently } from '../pool.js';
import { isIgnoredName, isNameOnlyAHint } from './names.js';

/** A file seen in the folder, not taken yet: what it looked like, and since when it has not changed. */
interface Candidate {
  size: number;
  mtimeMs: number;
  /** When size and mtime were last seen to change (or first seen). */
  stableSince: number;
  /** When the last event for it came (a write, a rename), or when a listing found it. */
  lastEventAt: number;
  /** When it was last stat'ed (0: not yet). */
  lastStatAt: number;
  /** When to look at it again. */
  checkAt: number;
  /** It appeared by a rename (an event, with no write after it): taken without waiting to settle. */
  renamedAt: number | undefined;
  /** Not stat'ed yet since it was noticed. */
  fresh: boolean;
}

/** A file handed on: what it looked like when taken. Kept while in flight, and after it when left in place. */
export interface TakenFile {
  readonly size: number;
  readonly mtimeMs: number;
}

export interface ScannerOptions {
  /** The folder, absolute. */
  readonly root: string;
  /** Unchanged for this long, a file is complete. */
  readonly settleMs: number;
  /** The whole folder is listed again this often (events are lost on network file systems). */
  readonly rescanMs: number;
  /** Whether a file (its path relative to the folder, with `/`) is wanted (--include/--exclude). */
  readonly wanted: (relativePath: string) => boolean;
  /** Folders and files under the root never taken (where files are moved, the manifest): absolute. */
  readonly excluded: readonly string[];
  /** Something went wrong that the user should hear of (a folder that cannot be read, events that stopped). */
  readonly problem: (message: string) => void;
}

/**
 * A renamed-in file is taken once no write followed its rename event for this long. The events of a file
 * being written come together (created, then modified), so a rename with no write after it is a move.
 */
const RENAME_QUIET_MS = 100;
/** Files looked at (stat) at once. */
const STAT_CONCURRENCY = 32;
/**
 * Rename events tell a file moved in from one being written on Linux and Windows, whose events say created
 * and modified apart; macOS's FSEvents may merge them into one, so there every file waits to settle.
 */
const RENAMES_TELL = process.platform !== 'darwin';

/**
 * Finds the complete files of a folder, recursively, and hands each one on once: as an endless async
 * iterable of paths relative to the folder. A file is complete when its size and modification time have not
 * changed for `settleMs`, or at once when it was renamed into the folder. File-system events are hints that
 * make it look sooner; a full listing every `rescanMs` finds what events missed (network file systems, a
 * watcher that was down, an overflowing event buffer). Empty files wait: a writer may not have begun.
 *
 * On Linux each folder gets a watcher of its own: Node 20's `recursive` watch there sets one inotify watch per
 * file, reads folders and stats files synchronously on the event loop, and forgets a deleted file by looking
 * through every file it knows; tens of thousands of files make it slow and large. macOS and Windows watch a
 * tree natively.
 */
export class FolderScanner implements AsyncIterable<string> {
  private readonly options: ScannerOptions;
  private readonly candidates = new Map<string, Candidate>();
  /** Taken files by relative path: in flight, or left in place after their upload. */
  private readonly taken = new Map<string, TakenFile>();
  private readonly ready: string[] = [];
  private readonly watchers = new Map<string, FSWatcher>();
  private wake: (() => void) | undefined;
  private stopped = false;
  private ticker: NodeJS.Timeout | undefined;
  private rescanner: NodeJS.Timeout | undefined;
  private ticking = false;
  private scanning: Promise<void> | undefined;
  private rescanSoon = false;

  constructor(options: ScannerOptions) {
    this.options = options;
  }

  /** Files noticed and not taken yet, and files complete and waiting for an upload slot. */
  get waiting(): number {
    return this.candidates.size + this.ready.length;
  }

  /** Lists the folder (files present are taken like new ones), then watches it. */
  async start(): Promise<void> {
    await this.rescan();
    // How late a complete file may be seen so, at most: a tenth of the settle time, 20 to 100 ms.
    const tickMs = Math.min(100, Math.max(20, Math.floor(this.options.settleMs / 10)));
    this.ticker = setInterval(() => void this.tick(), tickMs);
    this.rescanner = setInterval(() => void this.rescan(), this.options.rescanMs);
  }

  /** Hands on nothing more: the iteration ends (once what is ready was taken). */
  stop(): void {
    this.stopped = true;
    clearInterval(this.ticker);
    clearInterval(this.rescanner);
    for (const watcher of this.watchers.values()) watcher.close();
    this.watchers.clear();
    this.wake?.();
  }

  async *[Symbol.asyncIterator](): AsyncGenerator<string> {
    for (;;) {
      if (this.stopped) return;
      const next = this.ready.shift();
      if (next !== undefined) {
        yield next;
        continue;
      }
      await new Promise<void>((resolve) => {
        this.wake = resolve;
      });
      this.wake = undefined;
    }
  }

  /**
   * A taken file's upload ended. `leftAt` is where it stayed (kept, or failed and kept): not taken again until
   * it changes. Without it, the file left the folder (moved, deleted), or is looked at again from scratch
   * (`again`: it could not be read, e.g. still locked by its writer).
   */
  release(relativePath: string, outcome: 'kept' | 'gone' | 'again'): void {
    if (outcome === 'kept') return;
    this.taken.delete(relativePath);
    if (outcome === 'again' && !this.stopped) this.notice(relativePath, false);
  }

  private watchTree(): void {
    try {
      const watcher = watch(this.options.root, { recursive: true }, (event, name) => this.onEvent('', event, name));
      watcher.on('error', (error) => this.watcherFailed('', error));
      this.watchers.set('', watcher);
    } catch (error) {
      this.watcherFailed('', error);
    }
  }

  private watchFolder(folder: string): void {
    if (this.watchers.has(folder) || this.stopped) return;
    try {
      const watcher = watch(join(this.options.root, folder), (event, name) => this.onEvent(folder, event, name));
      watcher.on('error', (error) => this.watcherFailed(folder, error));
      this.watchers.set(folder, watcher);
    } catch (error) {
      this.watcherFailed(folder, error);
    }
  }

  private watcherFailed(folder: string, error: unknown): void {
    this.watchers.get(folder)?.close();
    this.watchers.delete(folder);
    const code = (error as { code?: string }).code;
    // A folder removed, or one that went before its watcher started: nothing to say.
    if (code === 'ENOENT' || (code === 'EPERM' && process.platform === 'win32')) return;
    this.options.problem(
      `cannot watch ${folder === '' ? 'the folder' : folder} for changes (${code ?? String(error)}): files there are found by the rescan every ${this.options.rescanMs / 1000} s`,
    );
  }

  private onEvent(folder: string, event: string, name: string | Buffer | null): void {
    if (this.stopped) return;
    // No name (Windows, after its buffer overflowed): the events were lost, so look at everything. A name that
    // may be spelt otherwise in the listing (isNameOnlyAHint): the listing decides.
    if (name === null || isNameOnlyAHint(String(name))) {
      this.rescanSoon = true;
      return;
    }
    const path = toPortable(folder === '' ? String(name) : `${folder}/${String(name)}`);
    if (!this.accepts(path)) return;
    const known = this.candidates.get(path);
    if (known) {
      known.checkAt = 0;
      known.lastEventAt = Date.now();
      // A write after the rename: it is being written, so it settles like any other.
      if (event === 'change') known.renamedAt = undefined;
      return;
    }
    if (this.taken.has(path)) return;
    this.notice(path, RENAMES_TELL && event === 'rename');
  }

  /** Whether a path (relative, with `/`) may be taken at all: no ignored name in it, not excluded, wanted. */
  private accepts(path: string): boolean {
    if (path.split('/').some(isIgnoredName)) return false;
    const absolute = join(this.options.root, path);
    if (this.options.excluded.some((excluded) => absolute === excluded || absolute.startsWith(excluded + sep))) return false;
    return true;
  }

  private notice(path: string, renamed: boolean): void {
    const now = Date.now();
    this.candidates.set(path, { size: -1, mtimeMs: -1, stableSince: now, lastEventAt: now, lastStatAt: 0, checkAt: 0, renamedAt: renamed ? now : undefined, fresh: true });
  }

  /** Looks at the candidates due, and hands on those that are complete. */
  private async tick(): Promise<void> {
    if (this.ticking || this.stopped) return;
    this.ticking = true;
    try {
      if (this.rescanSoon) {
        this.rescanSoon = false;
        void this.rescan();
      }
      const now = Date.now();
      const due = [...this.candidates].filter(([, candidate]) => candidate.checkAt <= now);
      await forEachConcurrently(due, STAT_CONCURRENCY, async ([path, candidate]) => this.check(path, candidate));
    } finally {
      this.ticking = false;
    }
  }

  private async check(path: string, candidate: Candidate): Promise<void> {
    let info: Stats;
    try {
      info = await statOf(join(this.options.root, path));
    } catch {
      // Gone (deleted, renamed away) or unreadable for now: a later event or rescan brings it back.
      this.candidates.delete(path);
      return;
    }
    if (this.stopped || this.candidates.get(path) !== candidate) return;
    const now = Date.now();
    if (info.isDirectory()) {
      this.candidates.delete(path);
      if (process.platform === 'linux') this.watchFolder(path);
      // A folder moved in with files in it: its files are listed now rather than at the next rescan.
      void this.listFolder(path);
      return;
    }
    // Filters apply to files, whether an event or a listing found them.
    if (!info.isFile() || !this.options.wanted(path)) {
      this.candidates.delete(path);
      return;
    }
    const changed = info.size !== candidate.size || info.mtimeMs !== candidate.mtimeMs;
    if (changed) {
      if (!candidate.fresh) candidate.renamedAt = undefined;
      candidate.fresh = false;
      candidate.size = info.size;
      candidate.mtimeMs = info.mtimeMs;
      // It changed when its last event came, if one came since the last look; else (events lost, as on a
      // network file system) it may have changed just now.
      candidate.stableSince = candidate.lastEventAt > candidate.lastStatAt ? candidate.lastEventAt : now;
    }
    candidate.lastStatAt = now;
    const renamedIn = candidate.renamedAt !== undefined;
    const complete = info.size > 0 && (renamedIn ? now - (candidate.renamedAt ?? now) >= RENAME_QUIET_MS : now - candidate.stableSince >= this.options.settleMs);
    if (complete && !changed) {
      this.candidates.delete(path);
      this.taken.set(path, { size: info.size, mtimeMs: info.mtimeMs });
      this.ready.push(path);
      this.wake?.();
      return;
    }
    // An empty file is looked at again after each settle time: it may be about to be written.
    if (info.size === 0) candidate.checkAt = now + this.options.settleMs;
    else candidate.checkAt = renamedIn ? (candidate.renamedAt ?? now) + RENAME_QUIET_MS : candidate.stableSince + this.options.settleMs;
  }

  /**
   * Lists the whole folder: every file not known yet becomes a candidate, a file left in place that changed
   * is taken again, and what left the folder is forgotten.
   */
  rescan(): Promise<void> {
    // The folder's own watcher ends when the folder is removed: one is set again once it is back.
    if (process.platform === 'linux') this.watchFolder('');
    else if (!this.watchers.has('')) this.watchTree();
    this.scanning ??= this.listFolder('').then(
      (seen) => {
        this.scanning = undefined;
        // Files left in place that are no longer there: forgotten (in-flight ones are released by their upload).
        if (seen) for (const path of this.taken.keys()) if (!seen.has(path) && !this.ready.includes(path)) this.forgetIfGone(path);
      },
      () => {
        this.scanning = undefined;
      },
    );
    return this.scanning;
  }

  private forgetIfGone(path: string): void {
    stat(join(this.options.root, path), (error) => {
      if (error) this.taken.delete(path);
    });
  }

  /** Lists a folder and its subfolders; undefined if the folder itself cannot be read. */
  private async listFolder(start: string): Promise<Set<string> | undefined> {
    const seen = new Set<string>();
    const folders = [start];
    for (let folder = folders.pop(); folder !== undefined; folder = folders.pop()) {
      if (this.stopped) return undefined;
      let entries: Dirent[];
      try {
        entries = await new Promise((resolve, reject) =>
          readdir(join(this.options.root, folder as string), { withFileTypes: true }, (error, list) => (error ? reject(error) : resolve(list))),
        );
      } catch (error) {
        if (folder === start) {
          this.options.problem(`cannot list ${folder === '' ? 'the folder' : folder} (${(error as { code?: string }).code ?? String(error)}); trying again at the next rescan`);
          return undefined;
        }
        continue;
      }
      for (const entry of entries) {
        const path = toPortable(folder === '' ? entry.name : `${folder}/${entry.name}`);
        if (!this.accepts(path)) continue;
        if (entry.isDirectory()) {
          if (process.platform === 'linux') this.watchFolder(path);
          folders.push(path);
          continue;
        }
        // Links to files are taken (their target is read); links to folders are not followed (no loops).
        if (!entry.isFile() && !(entry.isSymbolicLink() && (await isFileLink(join(this.options.root, path))))) continue;
        seen.add(path);
        const taken = this.taken.get(path);
        if (this.candidates.has(path) || (taken && !(await changedSince(join(this.options.root, path), taken)))) continue;
        if (taken) this.taken.delete(path);
        if (this.options.wanted(path)) this.notice(path, false);
      }
    }
    return seen;
  }
}

function toPortable(path: string): string {
  return sep === '\\' ? path.replaceAll('\\', '/') : path;
}

function statOf(path: string): Promise<Stats> {
  return new Promise((resolve, reject) => stat(path, (error, info) => (error ? reject(error) : resolve(info))));
}

async function isFileLink(path: string): Promise<boolean> {
  try {
    return (await statOf(path)).isFile();
  } catch {
    return false;
  }
}

/** A file left in place was replaced or rewritten since it was taken. */
async function changedSince(path: string, taken: TakenFile): Promise<boolean> {
  try {
    const info = await statOf(path);
    return info.size !== taken.size || info.mtimeMs !== taken.mtimeMs;
  } catch {
    return false;
  }
}
