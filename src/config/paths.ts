import { isAbsolute, join, relative, resolve } from 'node:path';

/** Resolves a path the user wrote: `~/…` against the home directory, a relative one against `baseDir`. */
export function resolveUserPath(path: string, baseDir: string, homeDir: string): string {
  return path === '~' || path.startsWith('~/') ? join(homeDir, path.slice(1)) : resolve(baseDir, path);
}

/** Shows a path under the home directory as `~/…`, for display only. */
export function tildify(path: string, homeDir: string | undefined): string {
  if (homeDir === undefined) return path;
  const inside = relative(homeDir, path);
  if (inside === '') return '~';
  return inside.startsWith('..') || isAbsolute(inside) ? path : `~/${inside}`;
}

/** Quotes a path for a command the user may paste into a POSIX shell. */
export function shellQuote(path: string): string {
  return /^[\w@%+=:,./-]+$/.test(path) ? path : `'${path.replaceAll("'", "'\\''")}'`;
}
