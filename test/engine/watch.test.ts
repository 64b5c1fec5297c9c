/**
 * The library's watch and endless batches, through the public entry: `LinkfaceClient.watch` uploads what
 * lands in a folder and stops when its signal aborts; `uploadAll` takes an async iterable that is still open.
 */
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { LinkfaceClient, ManifestStore, type Sandbox, startSandbox, type UploadResult, type WatchResult } from '../../src/index.js';

let dir: string;
let sandbox: Sandbox;
beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), 'linkface-library-watch-'));
  sandbox = await startSandbox();
});
afterAll(async () => {
  await sandbox.close();
  rmSync(dir, { recursive: true, force: true });
});

describe('the library', () => {
  it('watch: each file that lands in the folder is uploaded once, recorded, moved with its record; done() once stopped', async () => {
    const folder = mkdtempSync(join(dir, 'in-'));
    const done = join(dir, 'done');
    writeFileSync(join(folder, 'a.bin'), 'library watch a');
    const client = new LinkfaceClient({ apiId: 'sandbox', apiSecret: 'sandbox', endpoint: sandbox.url });
    const store = await ManifestStore.open(join(dir, 'watch.ndjson'), { resume: true, journal: true });
    const stop = new AbortController();
    const results: WatchResult[] = [];
    try {
      const watch = await client.watch(folder, {
        store,
        settleMs: 200,
        rescanMs: 1000,
        onSuccess: { moveTo: done },
        signal: stop.signal,
        onResult: (result) => {
          results.push(result);
          if (results.length === 2) stop.abort();
        },
      });
      writeFileSync(join(folder, 'b.bin'), 'library watch b');
      await watch.done();
      expect(watch.counts).toMatchObject({ taken: 2, uploaded: 2, failed: 0 });
    } finally {
      store.close();
      await client.close();
    }
    expect(results.map((result) => [result.input, result.ok, result.file]).sort()).toEqual([
      [join(folder, 'a.bin'), true, 'moved'],
      [join(folder, 'b.bin'), true, 'moved'],
    ]);
    const record = JSON.parse(readFileSync(join(done, 'a.bin.json'), 'utf8')) as { liveness_data_id: string };
    expect(record.liveness_data_id).toBe(results.find((result) => result.input.endsWith('a.bin'))?.livenessDataId);
  });

  it('uploadAll over an async iterable: each input is checked and uploaded as it comes; an invalid one is SKIPPED', async () => {
    writeFileSync(join(dir, 'one.bin'), 'streamed one');
    writeFileSync(join(dir, 'two.bin'), 'streamed two');
    async function* inputs(): AsyncGenerator<string> {
      yield join(dir, 'one.bin');
      await new Promise((resolve) => setTimeout(resolve, 50));
      yield join(dir, 'missing.bin');
      yield join(dir, 'two.bin');
    }
    const client = new LinkfaceClient({ apiId: 'sandbox', apiSecret: 'sandbox', endpoint: sandbox.url });
    const seen: UploadResult[] = [];
    try {
      for await (const result of client.uploadAll(inputs())) seen.push(result);
    } finally {
      await client.close();
    }
    expect(seen.map((result) => [result.input.slice(dir.length + 1), result.status]).sort()).toEqual([
      ['missing.bin', 'SKIPPED'],
      ['one.bin', 'OK'],
      ['two.bin', 'OK'],
    ]);
  });
});
