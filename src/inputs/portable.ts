import { posix, win32 } from 'node:path';

/**
 * What differs between the systems linkface runs on, for inputs: path separators in patterns, case in
 * names, the encodings of lists written by Windows tools, and files the desktop puts in folders. Each takes
 * the platform as a parameter, so that the Windows and macOS rules are tested on Linux too.
 */

/**
 * A glob pattern as the glob libraries read it. On Windows `\` is the path separator people type
 * (`captures\*.bin` in cmd), while to the libraries it is an escape: it becomes `/`. Elsewhere `\` keeps its
 * meaning (an escape: `\*` is a literal star).
 */
export function portablePattern(pattern: string, platform: NodeJS.Platform = process.platform): string {
  return platform === 'win32' ? pattern.replace(/\\/g, '/') : pattern;
}

/**
 * Whether file names are matched without regard to case: the default file systems of Windows (NTFS) and
 * macOS (APFS) treat `A.BIN` and `a.bin` as one name, so `*.bin` must find `A.BIN` there.
 */
export function caseInsensitiveNames(platform: NodeJS.Platform = process.platform): boolean {
  return platform === 'win32' || platform === 'darwin';
}

/**
 * Text of a list file, whatever wrote it: UTF-8 (with or without a byte-order mark), or UTF-16 with its
 * byte-order mark, as Windows PowerShell 5.1's `>` writes (UTF-16LE).
 */
export function decodeText(bytes: Uint8Array): string {
  if (bytes[0] === 0xff && bytes[1] === 0xfe) return new TextDecoder('utf-16le').decode(bytes.subarray(2));
  if (bytes[0] === 0xfe && bytes[1] === 0xff) return new TextDecoder('utf-16be').decode(bytes.subarray(2));
  // TextDecoder drops a UTF-8 byte-order mark by itself.
  return new TextDecoder('utf-8').decode(bytes);
}

/**
 * Files that desktops leave in folders and that are never liveness data: Windows Explorer's thumbnail cache
 * and folder settings, and macOS's custom-icon file (`Icon` + carriage return). Hidden names (`.DS_Store`)
 * are skipped by the walk already.
 */
export function isDesktopClutter(name: string): boolean {
  return DESKTOP_FILES.has(name.toLowerCase());
}

const DESKTOP_FILES = new Set(['thumbs.db', 'ehthumbs.db', 'desktop.ini', 'icon\r']);

/**
 * How the files found in a walked folder are spelt: the folder as given, normalized once, then each file's path
 * after it (a walk gives `/`-separated paths) with `separator` between its parts. The folder's own separator is
 * kept: `captures/a.bin` for `captures/`, also on Windows, where `captures\` gives `captures\a.bin`. A
 * drive-relative folder on Windows (`C:`, `C:captures`: that drive's current folder) is joined the Windows way,
 * `C:a.bin`; joined with `/` it would become `C:/a.bin`, the drive's root.
 */
export function folderSpelling(directory: string, platform: NodeJS.Platform = process.platform): { folder: string; separator: string } {
  const windows = platform === 'win32' && (directory.includes('\\') || /^[a-z]:(?![\\/])/i.test(directory));
  const path = windows ? win32 : posix;
  // Joined, a bare `C:` would gain a separator (`C:\_`): `C:.` is the same folder, and joins as `C:_`.
  const base = windows && /^[a-z]:$/i.test(directory) ? `${directory}.` : directory;
  return { folder: path.join(base, '_').slice(0, -1), separator: path.sep };
}
