import { chmodSync, mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { beforeEach, describe, expect, it } from 'vitest';
import { FIXTURES, runCli, useSandbox } from './harness.js';

const ALICE = join(FIXTURES, 'liveness/alice.bin');
const setup = useSandbox('settings', { apiId: 'project-id', apiSecret: 'project-secret' });
/** A fresh, empty HOME for each test: no test sees another's rc files. */
let home: string;
let homes = 0;

beforeEach(() => {
  home = join(setup.dir, `home-${homes++}`);
  mkdirSync(home);
});

function writeRc(folder: string, name: string, content: unknown, mode = 0o600): string {
  mkdirSync(folder, { recursive: true });
  const path = join(folder, name);
  writeFileSync(path, typeof content === 'string' ? content : JSON.stringify(content));
  chmodSync(path, mode);
  return path;
}

describe('settings through the built command', () => {
  it('finds the project rc file from a subfolder', async () => {
    const project = join(home, 'work/project');
    writeRc(project, '.linkfacerc', { apiId: 'project-id', apiSecret: 'project-secret', endpoint: setup.sandbox.url });
    const deep = join(project, 'captures/day1');
    mkdirSync(deep, { recursive: true });
    const run = await runCli(['upload', ALICE], { home, cwd: deep });
    expect(run.code, run.stderr).toBe(0);
    expect(setup.sandbox.uploads()).toHaveLength(1);
  });

  it('puts a flag above the environment, and the environment above an rc file', async () => {
    writeRc(home, '.linkfacerc', { apiId: 'rc-id', apiSecret: 'project-secret', endpoint: setup.sandbox.url });
    const envOnly = await runCli(['upload', ALICE], { home, env: { LINKFACE_API_ID: 'project-id' } });
    expect(envOnly.code, envOnly.stderr).toBe(0);
    const flagWins = await runCli(['upload', '--api-id', 'flag-id', ALICE], { home, env: { LINKFACE_API_ID: 'project-id' } });
    expect(flagWins.code).toBe(3);
    expect(flagWins.stderr).toMatch(/UNAUTHORIZED \(HTTP 401\)/);
    expect(flagWins.stderr).toMatch(/api id: flag --api-id/);
    expect(setup.sandbox.requests.map((r) => r.fields.api_id)).toEqual(['project-id', 'flag-id']);
  });

  it('reads the secret from LINKFACE_API_SECRET_FILE', async () => {
    const secretFile = writeRc(home, 'secret', 'project-secret\n');
    const run = await runCli(['upload', ALICE], {
      home,
      env: { LINKFACE_ENDPOINT: setup.sandbox.url, LINKFACE_API_ID: 'project-id', LINKFACE_API_SECRET_FILE: secretFile },
    });
    expect(run.code, run.stderr).toBe(0);
  });

  it('uses a profile from the rc file', async () => {
    writeRc(home, '.linkfacerc', {
      apiId: 'wrong',
      apiSecret: 'wrong',
      endpoint: setup.sandbox.url,
      profiles: { ci: { apiId: 'project-id', apiSecret: 'project-secret' } },
    });
    const run = await runCli(['upload', '--profile', 'ci', ALICE], { home });
    expect(run.code, run.stderr).toBe(0);
    const unknown = await runCli(['upload', '--profile', 'nope', ALICE], { home });
    expect(unknown.code).toBe(2);
    expect(unknown.stderr).toMatch(/nope/);
    expect(unknown.stderr).toMatch(/ci/);
  });

  it('stops with exit 2, naming file and key, for a typo in an rc file', async () => {
    const rc = writeRc(home, '.linkfacerc', { apiId: 'project-id', api_secret: 'x' });
    const run = await runCli(['upload', ALICE], { home });
    expect(run.code).toBe(2);
    expect(run.stderr).toContain(`${rc}: unknown key 'api_secret'`);
    expect(run.stderr).toMatch(/did you mean 'apiSecret'/);
    expect(setup.sandbox.requests).toHaveLength(0);
  });

  it('stops with exit 2 for malformed JSON in an rc file', async () => {
    writeRc(home, '.linkfacerc.json', '{"apiId": ');
    const run = await runCli(['upload', ALICE], { home });
    expect(run.code).toBe(2);
    expect(run.stderr).toMatch(/\.linkfacerc\.json/);
  });

  // Windows has no POSIX file modes: the permission warning is off there by design.
  it.skipIf(process.platform === 'win32')('warns when an rc file holding the secret is readable by others', async () => {
    const rc = writeRc(home, '.linkfacerc', { apiId: 'project-id', apiSecret: 'project-secret', endpoint: setup.sandbox.url }, 0o644);
    const run = await runCli(['upload', ALICE], { home });
    expect(run.code).toBe(0);
    expect(run.stderr).toMatch(/warning: .*readable by others|warning: .*0?644/);
    expect(run.stderr).toContain(`chmod 600`);
    expect(run.stderr).toContain(rc.replace(home, '~').split('/').pop() as string);
  });

  it('without credentials: exit 2 with all three ways to give them, nothing sent', async () => {
    const run = await runCli(['upload', ALICE], { home, env: { LINKFACE_ENDPOINT: setup.sandbox.url } });
    expect(run.code).toBe(2);
    expect(run.stdout).toBe('');
    expect(run.stderr).toMatch(/the API id and secret are not set/);
    expect(run.stderr).toMatch(/--api-id/);
    expect(run.stderr).toMatch(/LINKFACE_API_ID=ID and LINKFACE_API_SECRET=SECRET/);
    expect(run.stderr).toMatch(/\.linkfacerc/);
    expect(setup.sandbox.requests).toHaveLength(0);
  });

  it('rejects a bad flag value with exit 2', async () => {
    const run = await runCli(['upload', '--timeout', 'soon', ALICE], { home, env: { LINKFACE_API_ID: 'a', LINKFACE_API_SECRET: 'b' } });
    expect(run.code).toBe(2);
    expect(run.stderr).toMatch(/--timeout/);
    expect(run.stderr).toMatch(/soon/);
  });
});

describe('linkface config show', () => {
  it('prints each setting with its source and never the secret', async () => {
    const rc = writeRc(home, '.linkfacerc', { apiSecret: 'very-secret-value', concurrency: 8 });
    const run = await runCli(['config', 'show', '--timeout', '12'], { home, env: { LINKFACE_API_ID: 'env-id' } });
    expect(run.code, run.stderr).toBe(0);
    expect(run.stdout).toMatch(/apiId\s+env-id\s+env LINKFACE_API_ID/);
    expect(run.stdout).toMatch(/apiSecret\s+\(set, redacted\)\s+file ~\/\.linkfacerc/);
    expect(run.stdout).toMatch(/concurrency\s+8\s+file ~\/\.linkfacerc/);
    expect(run.stdout).toMatch(/timeout\s+12 s\s+flag --timeout/);
    expect(run.stdout).toMatch(/endpoint\s+https:\/\/cloudapi\.linkface\.cn\s+default/);
    expect(run.stdout).toContain(rc);
    expect(run.stdout + run.stderr).not.toContain('very-secret-value');
  });
});
