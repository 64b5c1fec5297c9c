import { spawn, spawnSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type Sandbox, startSandbox } from '../../src/sandbox/index.js';
import { FIXTURES } from './harness.js';

/**
 * The single executable (`npm run build:exe`), built here because CI runs only `npm ci` and `npm test`, then
 * run as a user of a machine without Node runs it: `env -i`, so nothing is inherited (no PATH, so no node).
 */
const ROOT = resolve(import.meta.dirname, '../..');
const EXE = join(ROOT, 'release', 'linkface-linux-x64');
const VERSION = (JSON.parse(readFileSync(join(ROOT, 'package.json'), 'utf8')) as { version: string }).version;
const ALICE = join(FIXTURES, 'liveness', 'alice.bin');

interface ExeRun {
  code: number | null;
  stdout: string;
  stderr: string;
}

/** `env -i HOME=<home> [VARS…] release/linkface-linux-x64 ARGS`. */
function runExe(args: readonly string[], home: string, env: Record<string, string> = {}): Promise<ExeRun> {
  const assignments = Object.entries({ HOME: home, ...env }).map(([key, value]) => `${key}=${value}`);
  return new Promise((resolvePromise, reject) => {
    const child = spawn('/usr/bin/env', ['-i', ...assignments, EXE, ...args], { cwd: home, stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    child.stdout.setEncoding('utf8').on('data', (chunk: string) => (stdout += chunk));
    child.stderr.setEncoding('utf8').on('data', (chunk: string) => (stderr += chunk));
    const timer = setTimeout(() => child.kill('SIGKILL'), 15_000);
    child.on('error', reject);
    child.on('close', (code) => {
      clearTimeout(timer);
      resolvePromise({ code, stdout, stderr });
    });
  });
}

describe.skipIf(process.platform !== 'linux' || process.arch !== 'x64')('the single executable', () => {
  let home: string;

  beforeAll(() => {
    home = mkdtempSync(join(tmpdir(), 'linkface-exe-'));
    const built = spawnSync(process.execPath, [join(ROOT, 'scripts', 'build-exe.mjs')], { cwd: ROOT, encoding: 'utf8' });
    if (built.status !== 0) throw new Error(`npm run build:exe failed:\n${built.stdout}${built.stderr}`);
  }, 120_000);

  afterAll(() => {
    if (home) rmSync(home, { recursive: true, force: true });
  });

  it('prints its version with an empty environment', async () => {
    const run = await runExe(['--version'], home);
    expect(run).toEqual({ code: 0, stdout: `${VERSION}\n`, stderr: '' });
  });

  it('compiles the command line from the code cache built into it', async () => {
    const run = await runExe(['--version'], home, { LINKFACE_DEBUG_STARTUP: '1' });
    expect(run.code).toBe(0);
    expect(run.stderr).toBe(`linkface: code cache accepted (${EXE})\n`);
  });

  it('uploads to its embedded sandbox and prints only the id', async () => {
    const run = await runExe(['upload', '--sandbox', ALICE], home);
    expect(run.stdout).toMatch(/^[0-9a-f]{32}\n$/);
    expect(run.code).toBe(0);
  });

  describe('against a sandbox in this process', () => {
    let sandbox: Sandbox;
    beforeAll(async () => {
      sandbox = await startSandbox({ port: 0 });
    });
    afterAll(async () => {
      await sandbox?.close();
    });

    it('uploads with credentials from the environment, and the sandbox stores the file', async () => {
      const run = await runExe(['upload', ALICE], home, {
        LINKFACE_ENDPOINT: sandbox.url,
        LINKFACE_API_ID: 'sandbox',
        LINKFACE_API_SECRET: 'sandbox',
      });
      expect(run.stderr).toMatch(/^uploaded .*alice\.bin/);
      expect(run.code).toBe(0);
      const [stored] = sandbox.uploads();
      expect(sandbox.uploads()).toHaveLength(1);
      expect(stored?.file?.sha256).toBe(createHash('sha256').update(readFileSync(ALICE)).digest('hex'));
      expect(stored?.userAgent).toContain(VERSION);
      expect(run.stdout).toBe(`${stored?.livenessDataId}\n`);
    });
  });

  it('reads an ES module rc file, as the npm command does', async () => {
    const rcHome = mkdtempSync(join(tmpdir(), 'linkface-exe-rc-'));
    try {
      writeFileSync(join(rcHome, '.linkfacerc.mjs'), "export default { apiId: 'from-mjs', concurrency: 7 };\n");
      const run = await runExe(['config', 'show'], rcHome);
      expect(run.stderr).toBe('');
      expect(run.code).toBe(0);
      expect(run.stdout).toMatch(/^apiId +from-mjs +file ~\/\.linkfacerc\.mjs/m);
      expect(run.stdout).toMatch(/^concurrency +7 /m);
    } finally {
      rmSync(rcHome, { recursive: true, force: true });
    }
  });

  it('has a checksum file that sha256sum -c accepts', () => {
    const line = readFileSync(`${EXE}.sha256`, 'utf8');
    const digest = createHash('sha256').update(readFileSync(EXE)).digest('hex');
    expect(line).toBe(`${digest}  linkface-linux-x64\n`);
    const check = spawnSync('sha256sum', ['-c', 'linkface-linux-x64.sha256'], { cwd: dirname(EXE), encoding: 'utf8' });
    expect(check.stdout).toBe('linkface-linux-x64: OK\n');
    expect(check.status).toBe(0);
  });
});
