/** The pure parts of `linkface watch`: which names it never takes, durations, after-upload actions, the journal, the pause. */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import type { AttemptOutcome } from '../../src/api/types.js';
import { ManifestStore, readManifest } from '../../src/engine/manifest.js';
import { AccountPause } from '../../src/engine/pause.js';
import { UsageError } from '../../src/errors.js';
import type { UploadJob } from '../../src/inputs/check.js';
import { parseDuration } from '../../src/units.js';
import { parseAfterUpload } from '../../src/watch/actions.js';
import { isIgnoredName, isNameOnlyAHint } from '../../src/watch/names.js';

describe('names a watched folder never takes', () => {
  it.each([
    ['.hidden.bin', true],
    ['.capture.bin.part', true],
    ['a.tmp', true],
    ['A.TMP', true],
    ['a.bin.part', true],
    ['a.partial', true],
    ['a.crdownload', true],
    ['~lock.bin', true],
    ['Thumbs.db', true],
    ['desktop.ini', true],
    ['a.bin', false],
    ['a.tmp.bin', false],
    ['part', false],
    ['a~b.bin', false],
  ])('%s: %s', (name, ignored) => expect(isIgnoredName(name)).toBe(ignored));
});

describe("an event's name on macOS", () => {
  // 'é' composed (NFC) and decomposed (NFD): macOS may report either, whatever the listing says.
  it.each([
    ['darwin', 'caf\u00e9.bin', true],
    ['darwin', 'cafe\u0301.bin', true],
    ['darwin', 'cafe.bin', false],
    ['linux', 'caf\u00e9.bin', false],
    ['win32', 'cafe\u0301.bin', false],
  ] as const)('%s, %j: only a hint, the listing decides: %s', (platform, name, hint) => {
    expect(isNameOnlyAHint(name, platform)).toBe(hint);
  });
});

describe('durations', () => {
  it.each([
    ['2s', 2000],
    ['500ms', 500],
    ['1.5s', 1500],
    ['1m', 60_000],
    ['2min', 120_000],
    ['1h', 3_600_000],
    ['30', 30_000],
    [' 10S ', 10_000],
  ])('%s is %i ms', (text, ms) => expect(parseDuration(text)).toBe(ms));
  it.each(['', 's', '-1s', '2 days', '1e3s', 'soon'])('%s is not a duration', (text) => expect(parseDuration(text)).toBeUndefined());
});

describe('--on-success / --on-failure', () => {
  it('reads keep, delete and move:<dir>', () => {
    expect(parseAfterUpload('keep', '--on-success', true)).toBe('keep');
    expect(parseAfterUpload('delete', '--on-success', true)).toBe('delete');
    expect(parseAfterUpload('move:done/ok', '--on-success', true)).toEqual({ moveTo: 'done/ok' });
  });
  it.each([
    ['delete', '--on-failure', false],
    ['move:', '--on-success', true],
    ['move', '--on-success', true],
    ['rename:x', '--on-success', true],
  ] as const)('refuses %s for %s', (text, flag, allowDelete) => {
    expect(() => parseAfterUpload(text, flag, allowDelete)).toThrow(UsageError);
  });
});

describe('the journal of a watched folder', () => {
  const job = (input: string, sha256: string): UploadJob => ({ input, kind: 'file', sha256, bytes: 1, payload: { kind: 'file', path: `/${input}`, filename: input, bytes: 1 } });
  it('names what was sent and never recorded; `--resume` readers pass over its lines', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'linkface-journal-'));
    try {
      const path = join(dir, 'm.ndjson');
      const store = await ManifestStore.open(path, { journal: true });
      store.sending(job('a.bin', 'a'.repeat(64)));
      store.record({ input: 'a.bin', kind: 'file', sha256: 'a'.repeat(64), ok: true, status: 'OK', livenessDataId: 'id-a', retryable: false, attempts: 1, ms: 1, at: 'now' });
      store.sending(job('b.bin', 'b'.repeat(64)));
      store.sending(job('c.bin', 'c'.repeat(64)));
      store.record({ input: 'c.bin', kind: 'file', sha256: 'c'.repeat(64), ok: false, status: 'INTERNAL_ERROR', retryable: true, attempts: 4, ms: 1, at: 'now' });
      store.close();
      const index = await readManifest(path);
      expect(index.unfinished.map((unfinished) => unfinished.input)).toEqual(['b.bin']);
      expect(index.unreadableLines).toBe(0);
      expect([...index.bySha256]).toEqual([['a'.repeat(64), 'id-a']]);
      // Without `journal`, nothing is written before an upload.
      const plain = await ManifestStore.open(join(dir, 'plain.ndjson'));
      plain.sending(job('d.bin', 'd'.repeat(64)));
      plain.close();
      expect((await readManifest(join(dir, 'plain.ndjson'))).unfinished).toEqual([]);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});

describe('the account pause', () => {
  const unauthorized: AttemptOutcome = { ok: false, status: 'UNAUTHORIZED', httpStatus: 401, retryable: false, maybeDelivered: false };
  it('the first upload to meet an account error makes the checks, each after twice the wait; the others wait until it gets through', async () => {
    const pause = new AccountPause(1000);
    const signal = new AbortController().signal;
    const first = pause.failed(unauthorized, false);
    expect(first?.checks).toBe(0);
    expect((first?.recheckAt ?? 0) - Date.now()).toBeGreaterThan(900);
    expect(pause.failed(unauthorized, false)).toBeUndefined();
    const second = pause.failed(unauthorized, true);
    expect(second?.checks).toBe(1);
    expect((second?.recheckAt ?? 0) - Date.now()).toBeGreaterThan(1900);
    let opened = false;
    const waiting = pause.open(signal).then((open) => (opened = open));
    await new Promise((resolve) => setTimeout(resolve, 10));
    expect(opened).toBe(false);
    pause.resume();
    await waiting;
    expect(opened).toBe(true);
    expect(pause.isPaused).toBe(false);
  });
  it('waiting ends when the run stops', async () => {
    const pause = new AccountPause(1000);
    const stop = new AbortController();
    pause.failed(unauthorized, false);
    const waiting = pause.open(stop.signal);
    stop.abort();
    expect(await waiting).toBe(false);
  });
});
