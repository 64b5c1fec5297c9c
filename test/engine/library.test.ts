/**
 * The library through its public entry only (src/index.ts, what `import … from 'linkface-cli'` gives): a
 * 1,000-input batch with a results store, interrupted and resumed; shards; a dry run; typed errors. And the
 * README's library example, compiled against the built types.
 */
import { execFile } from 'node:child_process';
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  InvalidInputsError,
  LinkfaceError,
  LinkfaceClient,
  ManifestStore,
  parseShard,
  planUploads,
  previewPlan,
  type Sandbox,
  startSandbox,
  toResultRecord,
  type UploadResult,
  uploadAll,
} from '../../src/index.js';

const ROOT = resolve(import.meta.dirname, '../..');
let dir: string;
let captures: string;
let sandbox: Sandbox;
const COUNT = 1000;

beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), 'linkface-library-'));
  captures = join(dir, 'captures');
  for (let folder = 0; folder < 10; folder++) {
    mkdirSync(join(captures, `day${folder}`), { recursive: true });
    for (let i = 0; i < COUNT / 10; i++) writeFileSync(join(captures, `day${folder}`, `${i}.bin`), `library liveness ${folder}-${i}`);
  }
  sandbox = await startSandbox({ latencyMs: 5 });
});
afterAll(async () => {
  await sandbox.close();
  rmSync(dir, { recursive: true, force: true });
});

const account = () => ({ apiId: 'sandbox', apiSecret: 'sandbox', endpoint: sandbox.url, concurrency: 16 });

describe('a resumable batch through the public API', () => {
  it('1,000 inputs with a results store: interrupted, then resumed; every input uploaded exactly once', async () => {
    const manifest = join(dir, 'uploaded.ndjson');
    const stop = new AbortController();
    let store = await ManifestStore.open(manifest, { resume: true });
    const first = uploadAll([captures], { ...account(), store, signal: stop.signal });
    let seen = 0;
    for await (const result of first) {
      if (++seen === 300) stop.abort();
      expect(['OK', 'NOT_ATTEMPTED']).toContain(result.status);
    }
    store.close();
    const firstSummary = await first.done();
    expect(firstSummary.count).toBe(COUNT);
    expect(firstSummary.uploaded).toBeGreaterThanOrEqual(300);
    expect(firstSummary.notAttempted).toBeGreaterThan(0);
    expect(firstSummary.uploaded + firstSummary.notAttempted).toBe(COUNT);
    // The store holds one record per input: what was uploaded, with its id, and what was not attempted.
    const records = readFileSync(manifest, 'utf8').trim().split('\n').map((line) => JSON.parse(line) as ReturnType<typeof toResultRecord>);
    expect(records).toHaveLength(COUNT);
    expect(records.filter((r) => r.ok)).toHaveLength(firstSummary.uploaded);

    store = await ManifestStore.open(manifest, { resume: true });
    const results: UploadResult[] = [];
    const second = uploadAll([captures], { ...account(), store, onResult: (r) => results.push(r) });
    const summary = await second.done();
    store.close();
    expect(summary).toMatchObject({ count: COUNT, uploaded: firstSummary.notAttempted, resumed: firstSummary.uploaded, failed: 0 });
    expect(results.every((r) => r.ok && r.livenessDataId)).toBe(true);
    // Each content stored once by the server, across both runs.
    const stored = sandbox.uploads().map((u) => u.file?.sha256);
    expect(stored).toHaveLength(COUNT);
    expect(new Set(stored).size).toBe(COUNT);
    // The result a library user gets and the record the manifest holds are one and the same shape.
    const last = results.at(-1) as UploadResult;
    expect(Object.keys(toResultRecord(last)).filter((k) => toResultRecord(last)[k as keyof ReturnType<typeof toResultRecord>] !== undefined)).toEqual(
      expect.arrayContaining(['input', 'kind', 'ok', 'status', 'liveness_data_id', 'attempts', 'ms', 'at']),
    );

    // A dry run now: everything is found uploaded, nothing would be sent.
    const plan = await planUploads([captures]);
    const preview = await previewPlan(plan, await ManifestStore.open(manifest, { resume: true, write: false }));
    expect(preview.toUpload).toHaveLength(0);
    expect(preview.skipped.filter((r) => r.resumed)).toHaveLength(COUNT);
  }, 60_000);

  it('shards: two plans given the same inputs cover every input exactly once', async () => {
    const halves = await Promise.all(['1/2', '2/2'].map((shard) => planUploads([captures], { shard: parseShard(shard) })));
    const inputs = halves.flatMap((plan) => plan.jobs.map((job) => job.input));
    expect(inputs).toHaveLength(COUNT);
    expect(new Set(inputs).size).toBe(COUNT);
    expect(halves.every((plan) => plan.jobs.length > COUNT / 4)).toBe(true);
  });

  it('invalid inputs: an InvalidInputsError listing each, nothing sent; with skipInvalid, SKIPPED results', async () => {
    const before = sandbox.requests.length;
    const client = new LinkfaceClient(account());
    try {
      const error = await client.upload([join(dir, 'missing-1.bin'), join(dir, 'missing-2.bin')]).catch((e: unknown) => e);
      expect(error).toBeInstanceOf(InvalidInputsError);
      expect(error).toBeInstanceOf(LinkfaceError);
      expect(error).toMatchObject({ code: 'INVALID_INPUT', problems: [{ reason: 'no such file or directory' }, { reason: 'no such file or directory' }] });
      expect(sandbox.requests.length).toBe(before);
      const skipped = await client.upload([join(dir, 'missing-1.bin')], { skipInvalid: true });
      expect(skipped).toEqual([expect.objectContaining({ ok: false, status: 'SKIPPED' })]);
    } finally {
      await client.close();
    }
  });
});

describe("the README's library example", () => {
  it('compiles against the built types (dist/index.d.ts, as `linkface-cli`)', async () => {
    const readme = readFileSync(join(ROOT, 'README.md'), 'utf8');
    const section = readme.slice(readme.indexOf('## As a library'));
    const example = /```ts\n([\s\S]*?)```/.exec(section)?.[1];
    expect(example).toContain("from 'linkface-cli'");
    // Inside the package, so that `linkface-cli` resolves to this package's own exports (dist/).
    const work = join(ROOT, 'node_modules', '.cache', 'linkface-readme-example');
    mkdirSync(work, { recursive: true });
    writeFileSync(join(work, 'example.mts'), `declare const apiId: string;\ndeclare const apiSecret: string;\n${example}\nexport {};\n`);
    writeFileSync(
      join(work, 'tsconfig.json'),
      JSON.stringify({
        compilerOptions: { target: 'ES2022', module: 'NodeNext', moduleResolution: 'NodeNext', strict: true, noEmit: true, skipLibCheck: false, types: ['node'], typeRoots: [join(ROOT, 'node_modules', '@types')] },
        files: ['example.mts'],
      }),
    );
    const tsc = join(ROOT, 'node_modules', 'typescript', 'bin', 'tsc');
    const run = await promisify(execFile)(process.execPath, [tsc, '-p', join(work, 'tsconfig.json')], { cwd: work }).catch((error: { stdout: string; stderr: string }) => error);
    expect(`${run.stdout}${run.stderr}`).toBe('');
  }, 60_000);
});
