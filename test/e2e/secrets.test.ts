import { chmodSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type Sandbox, startSandbox } from '../../src/sandbox/index.js';
import { type CliRun, FIXTURES, runCli, sandboxEnv } from './harness.js';

/** A value that must never be printed, logged or put in a URL. */
const CANARY = 'CANARY-s3cr3t-7f1d2c9e';
const ALICE = join(FIXTURES, 'liveness/alice.bin');

let sandbox: Sandbox;
let home: string;
const runs: Array<[string, CliRun]> = [];

beforeAll(async () => {
  sandbox = await startSandbox({ apiId: 'canary-id', apiSecret: CANARY });
  home = mkdtempSync(join(tmpdir(), 'linkface-canary-'));
});
afterAll(async () => {
  await sandbox.close();
  rmSync(home, { recursive: true, force: true });
});

async function record(name: string, args: string[], env: Record<string, string> = sandboxEnv(sandbox.url, 'canary-id', CANARY)) {
  const run = await runCli(args, { env, home });
  runs.push([name, run]);
  return run;
}

describe('the API secret never appears in any output or URL', () => {
  it('on success, in every output mode', async () => {
    expect((await record('plain', ['upload', ALICE])).code).toBe(0);
    expect((await record('verbose', ['upload', '--verbose', ALICE])).code).toBe(0);
    expect((await record('json', ['upload', '--json', '--verbose', ALICE])).code).toBe(0);
    const manifest = join(home, 'canary-manifest.ndjson');
    expect((await record('manifest', ['upload', '--manifest', manifest, '--verbose', ALICE, join(home, 'missing.bin'), '--skip-invalid'])).code).toBe(0);
    const written = readFileSync(manifest, 'utf8');
    expect(written.split('\n').filter(Boolean)).toHaveLength(2);
    expect(written).not.toContain(CANARY);
  });

  it('on failures and retries, even when the server echoes the secret back', async () => {
    sandbox.enqueue(
      { kind: 'status', status: 'INTERNAL_ERROR', reason: `backend refused api_secret=${CANARY}` },
      { kind: 'raw', httpStatus: 502, body: `<html><title>bad gateway ${CANARY}</title></html>` },
      { kind: 'status', status: 'INVALID_ARGUMENT', reason: `invalid api_secret '${CANARY}'` },
    );
    const run = await record('failure', ['upload', '--verbose', '--retries', '2', ALICE]);
    expect(run.code).toBe(1);
    expect(run.stderr).toMatch(/INVALID_ARGUMENT/);
    expect(run.stderr).toContain('***');
    const json = await record('failure-json', ['upload', '--json', ALICE], {
      ...sandboxEnv(sandbox.url, 'canary-id', 'not-the-canary'),
    });
    expect(json.code).toBe(3);
  });

  it('when the secret is wrong, given on the command line (with a warning), or read from a file', async () => {
    const wrong = await record('wrong', ['upload', ALICE], sandboxEnv(sandbox.url, 'someone', CANARY));
    expect(wrong.code).toBe(3);
    const flag = await record('flag', ['upload', '--api-secret', CANARY, ALICE], { LINKFACE_ENDPOINT: sandbox.url, LINKFACE_API_ID: 'canary-id' });
    expect(flag.code).toBe(0);
    expect(flag.stderr).toMatch(/warning: --api-secret is visible to other users/);
    const secretFile = join(home, 'secret');
    writeFileSync(secretFile, `${CANARY}\n`);
    chmodSync(secretFile, 0o600);
    const fromFile = await record('file', ['upload', ALICE], { LINKFACE_ENDPOINT: sandbox.url, LINKFACE_API_ID: 'canary-id', LINKFACE_API_SECRET_FILE: secretFile });
    expect(fromFile.code).toBe(0);
  });

  it('in config show, and in configuration errors', async () => {
    expect((await record('config', ['config', 'show'])).code).toBe(0);
    const rc = join(home, '.linkfacerc');
    writeFileSync(rc, JSON.stringify({ apiSecret: CANARY, apiSecretFile: '/nope', apiId: 'x' }));
    chmodSync(rc, 0o644);
    const broken = await record('rc-error', ['config', 'show'], {});
    expect(broken.code).toBe(2);
    rmSync(rc);
  });

  it('in the report of an error that escapes everything (a JS rc file throwing from a timer)', async () => {
    const slow = await startSandbox({ apiId: 'canary-id', apiSecret: CANARY, latencyMs: 2000 });
    try {
      const project = mkdtempSync(join(tmpdir(), 'linkface-crash-'));
      writeFileSync(
        join(project, 'linkface.config.mjs'),
        `setTimeout(() => { throw new Error('config timer failed for ' + ${JSON.stringify(CANARY)}); }, 300);\n` +
          `export default { apiId: 'canary-id', apiSecret: ${JSON.stringify(CANARY)}, endpoint: ${JSON.stringify(slow.url)} };\n`,
      );
      const run = await runCli(['upload', ALICE], { home, cwd: project });
      runs.push(['crash', run]);
      rmSync(project, { recursive: true, force: true });
      expect(run.code).toBe(1);
      expect(run.stderr).toMatch(/linkface: internal error: config timer failed for \*\*\*/);
      expect(run.stderr).not.toMatch(/at Timeout|node:internal/);
    } finally {
      await slow.close();
    }
  });

  it('was sent in the form body only, and never printed', () => {
    expect(runs.length).toBeGreaterThanOrEqual(9);
    for (const [name, run] of runs) {
      expect(run.stdout, name).not.toContain(CANARY);
      expect(run.stderr, name).not.toContain(CANARY);
    }
    expect(sandbox.requests.length).toBeGreaterThan(5);
    for (const request of sandbox.requests) {
      expect(JSON.stringify(request.query)).not.toContain(CANARY);
      expect(request.path).not.toContain(CANARY);
    }
    expect(sandbox.requests.some((r) => r.fields.api_secret === CANARY)).toBe(true);
  });
});
