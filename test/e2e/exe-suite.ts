import { spawn } from 'node:child_process';
import { createHash } from 'node:crypto';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type Sandbox, startSandbox } from '../../src/sandbox/index.js';
import { FIXTURES } from './harness.js';

/**
 * What a single executable must do, run as a user of a machine without Node runs it: `env -i`, so nothing is
 * inherited (no PATH, so no node). Shared by test/e2e/exe.test.ts (linux-x64, run natively) and
 * test/e2e/exe-targets.test.ts (linux-arm64, run under qemu-aarch64).
 */
export const ROOT = resolve(import.meta.dirname, '../..');
export const RELEASE = join(ROOT, 'release');
export const VERSION = (JSON.parse(readFileSync(join(ROOT, 'package.json'), 'utf8')) as { version: string }).version;
const ALICE = join(FIXTURES, 'liveness', 'alice.bin');

export interface ExeRun {
  code: number | null;
  stdout: string;
  stderr: string;
}

/**
 * `env -i HOME=<home> [VARS…] <command…> ARGS`, where `command` is the executable, or an emulator and its
 * arguments followed by the executable (by absolute paths: there is no PATH).
 */
export function runExe(command: readonly string[], args: readonly string[], home: string, env: Record<string, string> = {}, timeout = 15_000): Promise<ExeRun> {
  const assignments = Object.entries({ HOME: home, ...env }).map(([key, value]) => `${key}=${value}`);
  return new Promise((resolvePromise, reject) => {
    const child = spawn('/usr/bin/env', ['-i', ...assignments, ...command, ...args], { cwd: home, stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    child.stdout.setEncoding('utf8').on('data', (chunk: string) => (stdout += chunk));
    child.stderr.setEncoding('utf8').on('data', (chunk: string) => (stderr += chunk));
    const timer = setTimeout(() => child.kill('SIGKILL'), timeout);
    child.on('error', reject);
    child.on('close', (code) => {
      clearTimeout(timer);
      resolvePromise({ code, stdout, stderr });
    });
  });
}

/**
 * The runs every executable that can be run here must pass. `command()` is called once the suite's own
 * beforeAll hooks have run (a build, say). `timeout` bounds each run (an emulator is slower).
 */
export function describeRuns(title: string, command: () => readonly string[], timeout = 15_000): void {
  describe(title, () => {
    let home: string;

    beforeAll(() => {
      home = mkdtempSync(join(tmpdir(), 'linkface-exe-'));
    });

    afterAll(() => {
      if (home) rmSync(home, { recursive: true, force: true });
    });

    // stderr is empty: it would hold "Code cache data rejected." if the code cache did not fit this binary.
    it('prints its version with an empty environment, and nothing on stderr', async () => {
      const run = await runExe(command(), ['--version'], home, {}, timeout);
      expect(run).toEqual({ code: 0, stdout: `${VERSION}\n`, stderr: '' });
    }, timeout + 5_000);

    it('uploads to its embedded sandbox and prints only the id', async () => {
      const run = await runExe(command(), ['upload', '--sandbox', ALICE], home, {}, timeout);
      expect(run.stdout).toMatch(/^[0-9a-f]{32}\n$/);
      expect(run.code).toBe(0);
    }, timeout + 5_000);

    describe('against a sandbox in this process', () => {
      let sandbox: Sandbox;
      beforeAll(async () => {
        sandbox = await startSandbox({ port: 0 });
      });
      afterAll(async () => {
        await sandbox?.close();
      });

      it('uploads with credentials from the environment, and the sandbox stores the file', async () => {
        const run = await runExe(
          command(),
          ['upload', ALICE],
          home,
          { LINKFACE_ENDPOINT: sandbox.url, LINKFACE_API_ID: 'sandbox', LINKFACE_API_SECRET: 'sandbox' },
          timeout,
        );
        expect(run.stderr).toMatch(/^uploaded .*alice\.bin/);
        expect(run.code).toBe(0);
        const [stored] = sandbox.uploads();
        expect(sandbox.uploads()).toHaveLength(1);
        expect(stored?.file?.sha256).toBe(createHash('sha256').update(readFileSync(ALICE)).digest('hex'));
        expect(stored?.userAgent).toContain(VERSION);
        expect(run.stdout).toBe(`${stored?.livenessDataId}\n`);
      }, timeout + 5_000);
    });

    // The executable's `import()` reaches built-in modules only: a JavaScript rc file is required there.
    it.each([
      ['.linkfacerc.mjs', "export default { apiId: 'from-js', concurrency: 7 };\n"],
      ['.linkfacerc.cjs', "module.exports = { apiId: 'from-js', concurrency: 7 };\n"],
      ['.linkfacerc.js', "module.exports = { apiId: 'from-js', concurrency: 7 };\n"],
    ])('reads a JavaScript rc file (%s), as the npm command does', async (name, content) => {
      const rcHome = mkdtempSync(join(tmpdir(), 'linkface-exe-rc-'));
      try {
        writeFileSync(join(rcHome, name), content);
        const run = await runExe(command(), ['config', 'show'], rcHome, {}, timeout);
        expect(run.stderr).toBe('');
        expect(run.code).toBe(0);
        expect(run.stdout).toMatch(new RegExp(`^apiId +from-js +file ~/\\${name}`, 'm'));
        expect(run.stdout).toMatch(/^concurrency +7 /m);
      } finally {
        rmSync(rcHome, { recursive: true, force: true });
      }
    }, timeout + 5_000);
  });
}

/** release/SHA256SUMS as a map of file name → digest; the format `sha256sum -c` reads. */
export function readSums(): Map<string, string> {
  const text = readFileSync(join(RELEASE, 'SHA256SUMS'), 'utf8');
  const sums = new Map<string, string>();
  for (const line of text.split('\n').filter(Boolean)) {
    const match = /^([0-9a-f]{64}) {2}([^/\s]+)$/.exec(line);
    if (!match?.[1] || !match[2]) throw new Error(`SHA256SUMS: malformed line ${JSON.stringify(line)}`);
    sums.set(match[2], match[1]);
  }
  return sums;
}
