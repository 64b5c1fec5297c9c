import type { Dirent } from 'node:fs';
import { readdir, stat } from 'node:fs/promises';
import { join } from 'node:path';

/** What walking a directory found; every path is relative to the walked directory, `/`-separated. */
export interface DirectoryWalk {
  /** Regular files (and symbolic links to them), in byte-wise order. */
  readonly files: string[];
  /** Directories and links that could not be read (`''` is the walked directory itself). */
  readonly unreadable: { readonly path: string; readonly reason: string }[];
}

interface WalkState {
  readonly root: string;
  /** `dev:ino` of every directory entered, so none is entered twice and a symlink loop ends. */
  readonly visited: Set<string>;
  readonly files: string[];
  readonly unreadable: { path: string; reason: string }[];
  /** Symbolic links to directories found in the current round, entered in the next. */
  linkedDirectories: string[];
}

/**
 * Lists the regular files under `root`, recursively: hidden entries (names starting with `.`) are skipped,
 * and so are FIFOs, sockets and devices. Symbolic links to directories are followed, but no directory is
 * entered twice: real directories are walked first and linked ones after, so a directory reachable both
 * ways is listed under its real path. Unreadable directories are reported, not thrown; entries that vanish
 * during the walk are simply not listed.
 */
export async function walkDirectory(root: string): Promise<DirectoryWalk> {
  const state: WalkState = { root, visited: new Set(), files: [], unreadable: [], linkedDirectories: [] };
  // Rounds, each in byte-wise order, keep the result the same on every machine whatever order readdir gives.
  let round = [''];
  while (round.length > 0) {
    state.linkedDirectories = [];
    for (const directory of round) await walkTree(state, directory);
    round = state.linkedDirectories.sort(compareBytewise);
  }
  return { files: state.files.sort(compareBytewise), unreadable: state.unreadable };
}

/** Walks one tree without following directory links (they are queued); a stack, not recursion, for any depth. */
async function walkTree(state: WalkState, start: string): Promise<void> {
  const stack = [start];
  for (let directory = stack.pop(); directory !== undefined; directory = stack.pop()) {
    for (const entry of await enterDirectory(state, directory)) {
      if (entry.name.startsWith('.')) continue;
      const path = directory === '' ? entry.name : `${directory}/${entry.name}`;
      if (entry.isFile()) state.files.push(path);
      else if (entry.isDirectory()) stack.push(path);
      else if (entry.isSymbolicLink()) await followLink(state, path);
      // Anything else is a FIFO, socket or device: never a liveness file, so skipped without a word.
    }
  }
}

async function enterDirectory(state: WalkState, directory: string): Promise<Dirent[]> {
  const path = join(state.root, directory);
  try {
    // bigint: inode numbers can exceed 2^53 on some file systems.
    const info = await stat(path, { bigint: true });
    const key = `${info.dev}:${info.ino}`;
    if (state.visited.has(key)) return [];
    state.visited.add(key);
    return await readdir(path, { withFileTypes: true });
  } catch (error) {
    noteFailure(state, directory, error, 'this directory cannot be read, so its files are not listed');
    return [];
  }
}

async function followLink(state: WalkState, link: string): Promise<void> {
  try {
    const target = await stat(join(state.root, link));
    if (target.isFile()) state.files.push(link);
    else if (target.isDirectory()) state.linkedDirectories.push(link);
  } catch (error) {
    noteFailure(state, link, error, 'the target of this symbolic link cannot be read');
  }
}

/** A vanished entry, a dangling link or a link loop is not a problem: there is nothing to upload there. */
function noteFailure(state: WalkState, path: string, error: unknown, whatFailed: string): void {
  const code = (error as { code?: string }).code;
  if (code === 'ENOENT' || code === 'ENOTDIR' || code === 'ELOOP') return;
  const reason = code === 'EACCES' || code === 'EPERM' ? `permission denied: ${whatFailed}` : `${whatFailed} (${code ?? String(error)})`;
  state.unreadable.push({ path, reason });
}

/**
 * Orders strings by their UTF-8 bytes (that is, by code point), unlike `<`, which compares UTF-16 code
 * units and puts U+10000 and above before U+E000–U+FFFF.
 */
export function compareBytewise(a: string, b: string): number {
  const length = Math.min(a.length, b.length);
  for (let i = 0; i < length; i++) {
    const x = a.charCodeAt(i);
    const y = b.charCodeAt(i);
    if (x !== y) return codePointRank(x) - codePointRank(y);
  }
  return a.length - b.length;
}

/** Surrogates encode code points above U+FFFF, so they rank after every other code unit. */
function codePointRank(unit: number): number {
  return unit >= 0xd800 && unit <= 0xdfff ? unit + 0x10000 : unit;
}
