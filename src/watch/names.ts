import { isDesktopClutter } from '../inputs/portable.js';

/** Endings of names that writers use while a file is not complete yet. */
const TEMPORARY_ENDINGS = ['.tmp', '.part', '.partial', '.crdownload'];

/**
 * A name a watched folder never takes: hidden (`.*`: also what writers use for a file they will rename into
 * place), temporary (`*.tmp`, `*.part`, `*.partial`, `*.crdownload`, `~*`: editors' and browsers' files being
 * written), and what desktops leave in folders (`Thumbs.db`, `desktop.ini`). Folders with such names are not
 * entered either.
 */
export function isIgnoredName(name: string): boolean {
  if (name.startsWith('.') || name.startsWith('~')) return true;
  const lower = name.toLowerCase();
  return TEMPORARY_ENDINGS.some((ending) => lower.endsWith(ending)) || isDesktopClutter(name);
}

/**
 * Whether an event's name is only a hint, for the folder's listing to settle. macOS may spell a name in an event
 * in another Unicode normalization than its listing does (NFD against NFC): the same file under two names
 * would be tracked twice. Names in ASCII are spelt one way only.
 */
export function isNameOnlyAHint(name: string, platform: NodeJS.Platform = process.platform): boolean {
  return platform === 'darwin' && /[^\x00-\x7f]/.test(name);
}
