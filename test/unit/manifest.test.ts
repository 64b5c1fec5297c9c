import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ManifestStore, previousUpload, readManifest } from '../../src/engine/manifest.js';
import { resumedResult } from '../../src/engine/store.js';
import type { UploadResult } from '../../src/engine/run.js';
import { UsageError } from '../../src/errors.js';
import type { UploadJob } from '../../src/inputs/check.js';

let dir: string;
beforeAll(() => {
  dir = mkdtempSync(join(tmpdir(), 'linkface-manifest-'));
});
afterAll(() => rmSync(dir, { recursive: true, force: true }));

const result = (extra: Partial<UploadResult>): UploadResult => ({
  input: 'a.bin',
  kind: 'file',
  ok: true,
  status: 'OK',
  retryable: false,
  attempts: 1,
  ms: 5,
  at: '2026-11-24T10:00:00.000Z',
  ...extra,
});
const fileJob = (sha256: string): UploadJob => ({ input: 'x.bin', kind: 'file', sha256, bytes: 1, payload: { kind: 'file', path: '/x.bin', filename: 'x.bin', bytes: 1 } });
const urlJob = (input: string): UploadJob => ({ input, kind: 'url', payload: { kind: 'url', url: input } });

describe('the manifest', () => {
  it('appends one SPEC record per result, and reads back what was uploaded', async () => {
    const path = join(dir, 'm.ndjson');
    const writer = await ManifestStore.open(path);
    writer.record(result({ sha256: 'aaa', livenessDataId: 'id-a', requestId: 'TID1', httpStatus: 200, bytes: 3 }));
    writer.record(result({ input: 'b.bin', sha256: 'bbb', ok: false, status: 'INTERNAL_ERROR', reason: 'boom' }));
    writer.record(result({ input: 'https://x.example/a b.bin', kind: 'url', livenessDataId: 'id-url' }));
    // A result found in the store by resume is there already: not written again.
    writer.record(result({ input: 'again.bin', sha256: 'aaa', livenessDataId: 'id-a', resumed: true }));
    writer.close();
    expect(readFileSync(path, 'utf8').split('\n').filter(Boolean)).toHaveLength(3);
    const first = JSON.parse(readFileSync(path, 'utf8').split('\n')[0] as string);
    expect(first).toEqual({
      input: 'a.bin',
      kind: 'file',
      sha256: 'aaa',
      bytes: 3,
      ok: true,
      status: 'OK',
      liveness_data_id: 'id-a',
      request_id: 'TID1',
      http_status: 200,
      attempts: 1,
      ms: 5,
      at: '2026-11-24T10:00:00.000Z',
    });
    const index = await readManifest(path);
    expect(previousUpload(index, fileJob('aaa'))).toBe('id-a');
    expect(previousUpload(index, fileJob('bbb'))).toBeUndefined();
    // The same URL, as given or percent-encoded, is the same input.
    expect(previousUpload(index, urlJob('https://x.example/a%20b.bin'))).toBe('id-url');
    expect(previousUpload(index, urlJob('https://x.example/other.bin'))).toBeUndefined();
    // As a results store opened to resume: what an earlier run uploaded, and where it says so.
    const resumed = await ManifestStore.open(path, { resume: true, write: false });
    expect(resumed.uploadedBefore(fileJob('aaa'))).toEqual({ livenessDataId: 'id-a', where: path });
    expect(resumed.uploadedBefore(fileJob('bbb'))).toBeUndefined();
    resumed.close();
    // Opened without resume, it knows nothing of earlier runs.
    const fresh = await ManifestStore.open(path, { write: false });
    expect(fresh.uploadedBefore(fileJob('aaa'))).toBeUndefined();
  });

  it('ignores, and counts, a line cut short', async () => {
    const path = join(dir, 'cut.ndjson');
    writeFileSync(path, `${JSON.stringify({ input: 'a', kind: 'file', sha256: 's', ok: true, liveness_data_id: 'i' })}\n{"input":"b","ki`);
    const index = await readManifest(path);
    expect(index.unreadableLines).toBe(1);
    expect(index.bySha256.get('s')).toBe('i');
  });

  it('keeps the first record of a manifest saved with a byte-order mark', async () => {
    const path = join(dir, 'bom.ndjson');
    writeFileSync(path, `\ufeff${JSON.stringify({ input: 'a', kind: 'file', sha256: 's', ok: true, liveness_data_id: 'i' })}\n`);
    const index = await readManifest(path);
    expect(index.unreadableLines).toBe(0);
    expect(index.bySha256.get('s')).toBe('i');
  });

  it('treats a missing manifest as empty, and an unreadable one as a usage error', async () => {
    expect((await readManifest(join(dir, 'none.ndjson'))).bySha256.size).toBe(0);
    await expect(readManifest(dir)).rejects.toThrow(UsageError);
    await expect(ManifestStore.open(join(dir, 'no/such/dir/m.ndjson'))).rejects.toThrow(/Cannot open the manifest/);
  });

  it('reports a resumed input as uploaded earlier, with the id the manifest holds', () => {
    expect(resumedResult(fileJob('aaa'), { livenessDataId: 'id-a', where: 'm.ndjson' })).toMatchObject({
      status: 'OK',
      ok: true,
      resumed: true,
      livenessDataId: 'id-a',
      attempts: 0,
      reason: 'already uploaded as id-a (m.ndjson)',
    });
  });

  it('does not replay an id that could not be printed as one (control characters, only white space)', async () => {
    const path = join(dir, 'hostile.ndjson');
    const record = (sha256: string, id: string) => JSON.stringify({ input: sha256, kind: 'file', sha256, ok: true, liveness_data_id: id });
    writeFileSync(path, [record('a', 'id\u001b[2J'), record('b', 'id\nFORGED\tline'), record('c', '   '), record('d', 'good-id')].join('\n'));
    const index = await readManifest(path);
    expect(index.unreadableLines).toBe(3);
    expect([...index.bySha256]).toEqual([['d', 'good-id']]);
  });

  it('writes exact values, JSON-escaped, with terminal codes escaped too, and the secret redacted', async () => {
    const path = join(dir, 'escaped.ndjson');
    const writer = await ManifestStore.open(path, { redact: (text: string) => text.split('s3cr3t').join('***') });
    const reason = 'said s3cr3t\u001b]0;title\u0007\u009b2J\u2028next\u202e';
    writer.record(result({ input: 'x\ny.bin', ok: false, status: 'INVALID_ARGUMENT', reason }));
    writer.close();
    const text = readFileSync(path, 'utf8');
    expect(text.split('\n')).toHaveLength(2);
    // biome-ignore lint/suspicious/noControlCharactersInRegex: the test is that none of these is written raw.
    expect(text.slice(0, -1)).not.toMatch(/[\u0000-\u001f\u007f-\u009f\u2028\u202e]/);
    expect(JSON.parse(text)).toMatchObject({ input: 'x\ny.bin', reason: reason.replace('s3cr3t', '***') });
  });
});
