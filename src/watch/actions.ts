import { access, copyFile, mkdir, rename, unlink, writeFile } from 'node:fs/promises';
import { basename, dirname, extname, join } from 'node:path';
import { toResultRecord, type UploadResult } from '../engine/run.js';
import { UsageError } from '../errors.js';
import { jsonLine, type Redact } from '../untrusted.js';

/** What becomes of a file after its upload: left where it is, deleted, or moved into a folder. */
export type AfterUpload = 'keep' | 'delete' | { readonly moveTo: string };

/** `keep`, `delete` or `move:<dir>` as the command line writes it; `delete` only where `allowDelete`. */
export function parseAfterUpload(text: string, flag: string, allowDelete: boolean): AfterUpload {
  if (text === 'keep') return 'keep';
  if (text === 'delete' && allowDelete) return 'delete';
  if (text.startsWith('move:') && text.length > 'move:'.length) return { moveTo: text.slice('move:'.length) };
  throw new UsageError(`${flag} must be keep${allowDelete ? ', delete' : ''} or move:<dir>, got '${text}'.`);
}

/** Where a file went. */
export type ActionDone = { readonly kind: 'kept' } | { readonly kind: 'deleted' } | { readonly kind: 'moved'; readonly to: string; readonly record: string };

/**
 * Carries out `action` on the file at `path` (relative path `relativePath` under the watched folder). A move
 * keeps the file's place under the folder (`sub/a.bin` → `<dir>/sub/a.bin`), never replaces a file already
 * there (`a-2.bin` then), and writes the result record as `<name>.json` first, so that whoever watches the
 * destination finds the id when the file appears. Moves are renames; across file systems, a copy then a delete.
 */
export async function afterUpload(action: AfterUpload, path: string, relativePath: string, result: UploadResult, redact?: Redact): Promise<ActionDone> {
  if (action === 'keep') return { kind: 'kept' };
  if (action === 'delete') {
    await unlink(path);
    return { kind: 'deleted' };
  }
  const wanted = join(action.moveTo, relativePath);
  await mkdir(dirname(wanted), { recursive: true });
  const { to, record } = await claimName(wanted, `${jsonLine(toResultRecord(result), redact)}\n`);
  try {
    await rename(path, to);
  } catch (error) {
    if ((error as { code?: string }).code !== 'EXDEV') throw error;
    await copyFile(path, to);
    await unlink(path);
  }
  return { kind: 'moved', to, record };
}

/**
 * `wanted`, or the first of `name-2.ext`, `name-3.ext`, … where neither the file nor its `.json` exists; the
 * record is written there (created, never replacing one), which claims the name.
 */
async function claimName(wanted: string, record: string): Promise<{ to: string; record: string }> {
  const ext = extname(wanted);
  const stem = join(dirname(wanted), basename(wanted, ext));
  for (let n = 1; ; n++) {
    const to = n === 1 ? wanted : `${stem}-${n}${ext}`;
    if (await exists(to)) continue;
    try {
      await writeFile(`${to}.json`, record, { flag: 'wx' });
      return { to, record: `${to}.json` };
    } catch (error) {
      if ((error as { code?: string }).code !== 'EEXIST') throw error;
    }
  }
}

async function exists(path: string): Promise<boolean> {
  try {
    await access(path);
    return true;
  } catch {
    return false;
  }
}
