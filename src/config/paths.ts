import { homedir } from 'node:os';
import { isAbsolute, join, relative, resolve, sep } from 'node:path';

/**
 * Resolves a path the user wrote: `~/…` (and `~\…` on Windows) against the home directory, a relative one
 * against `baseDir`.
 */
export function resolveUserPath(path: string, baseDir: string, homeDir: string, platform: NodeJS.Platform = process.platform): string {
  const home = path === '~' || path.startsWith('~/') || (platform === 'win32' && path.startsWith('~\\'));
  return home ? join(homeDir, path.slice(1)) : resolve(baseDir, path);
}

/**
 * The user's home folder. On Windows Node reads USERPROFILE, but a HOME that is set (Git Bash, MSYS, Cygwin,
 * a test's own home) is where that user keeps their files: it wins, and its `/c/Users/x` form is read as
 * `C:\Users\x`. Elsewhere HOME is what Node reads already.
 */
export function userHome(
  env: Readonly<Record<string, string | undefined>>,
  platform: NodeJS.Platform = process.platform,
  fallback: () => string = homedir,
): string {
  const home = env.HOME;
  if (platform !== 'win32' || !home) return fallback();
  const msys = /^\/([a-z])(\/.*)?$/i.exec(home);
  return msys ? `${(msys[1] as string).toUpperCase()}:${(msys[2] ?? '/').replace(/\//g, '\\')}` : home;
}

/** Shows a path under the home directory as `~/…`, for display only. */
export function tildify(path: string, homeDir: string | undefined): string {
  if (homeDir === undefined) return path;
  const inside = relative(homeDir, path);
  if (inside === '') return '~';
  // One separator throughout: `~\proj\.linkfacerc` on Windows, `~/proj/.linkfacerc` elsewhere.
  return inside.startsWith('..') || isAbsolute(inside) ? path : `~${sep}${inside}`;
}

/** Quotes a path for a command the user may paste into a POSIX shell. */
export function shellQuote(path: string): string {
  return /^[\w@%+=:,./-]+$/.test(path) ? path : `'${path.replaceAll("'", "'\\''")}'`;
}
