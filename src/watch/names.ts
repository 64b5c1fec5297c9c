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
