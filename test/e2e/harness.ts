import { createHash } from 'node:crypto';
import { spawn, spawnSync } from 'node:child_process';
import { mkdtempSync, realpathSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { afterAll, afterEach, beforeAll, beforeEach } from 'vitest';
import type { ResultRecord } from '../../src/engine/run.js';
import { type Sandbox, type SandboxOptions, startSandbox } from '../../src/sandbox/index.js';

/** The built command, as a user runs it. `npm test` builds before the tests run. */
export const BIN = resolve(import.meta.dirname, '../../bin/linkface.js');
export const FIXTURES = resolve(import.meta.dirname, '../../fixtures');

export interface CliRun {
  readonly code: number | null;
  readonly signal: NodeJS.Signals | null;
  readonly stdout: string;
  readonly stderr: string;
}

export interface CliOptions {
  /** Variables on top of the clean environment (PATH, HOME, NO_COLOR). */
  env?: Record<string, string>;
  cwd?: string;
  /** Bytes for standard input; without it standard input is empty (not a terminal). */
  stdin?: string | Buffer;
  /** HOME for the run; a fresh empty folder by default, so no developer rc file is ever read. */
  home?: string;
  timeoutMs?: number;
  /** Called with the child once it started (to send it signals). */
  onSpawn?: (child: import('node:child_process').ChildProcess) => void;
}

/** Runs `linkface ARGS` in a clean environment and collects what a user would see. */
export function runCli(args: readonly string[], options: CliOptions = {}): Promise<CliRun> {
  const home = options.home ?? mkdtempSync(join(tmpdir(), 'linkface-home-'));
  const env: Record<string, string> = {
    PATH: process.env.PATH ?? '/usr/bin:/bin',
    HOME: home,
    NO_COLOR: '1',
    ...(process.env.NODE_EXTRA_CA_CERTS ? { NODE_EXTRA_CA_CERTS: process.env.NODE_EXTRA_CA_CERTS } : {}),
    ...options.env,
  };
  return new Promise((resolvePromise, reject) => {
    const child = spawn(process.execPath, [BIN, ...args], { cwd: options.cwd ?? home, env, stdio: ['pipe', 'pipe', 'pipe'] });
    const stdout: Buffer[] = [];
    const stderr: Buffer[] = [];
    child.stdout.on('data', (chunk: Buffer) => stdout.push(chunk));
    child.stderr.on('data', (chunk: Buffer) => stderr.push(chunk));
    const timer = setTimeout(() => child.kill('SIGKILL'), options.timeoutMs ?? 15_000);
    child.on('error', reject);
    child.on('close', (code, signal) => {
      clearTimeout(timer);
      if (!options.home) rmSync(home, { recursive: true, force: true });
      resolvePromise({
        code,
        signal,
        stdout: Buffer.concat(stdout).toString('utf8'),
        stderr: Buffer.concat(stderr).toString('utf8'),
      });
    });
    child.stdin.on('error', () => {});
    child.stdin.end(options.stdin ?? '');
    options.onSpawn?.(child);
  });
}

/** Environment pointing the command at a sandbox with its credentials. */
export function sandboxEnv(url: string, apiId = 'sandbox', apiSecret = 'sandbox'): Record<string, string> {
  return { LINKFACE_ENDPOINT: url, LINKFACE_API_ID: apiId, LINKFACE_API_SECRET: apiSecret };
}

/** What `useSandbox` gives a test file: its folder, and the sandbox and environment of the running test. */
export interface SandboxedFile {
  /** A temporary folder for the whole file, removed after its last test. */
  readonly dir: string;
  /** The running test's own sandbox, fresh for each test. */
  readonly sandbox: Sandbox;
  /** The environment that points the command at that sandbox, with its credentials. */
  readonly env: Record<string, string>;
  /** Closes the test's sandbox and starts another with these options; it is closed after the test, as the first. */
  restart(options?: SandboxOptions): Promise<Sandbox>;
}

/**
 * Registers the hooks of a file whose tests each run the command against a sandbox of their own: a temporary
 * folder `linkface-PREFIX-…` for the file, and a sandbox started before each test and closed after it.
 */
export function useSandbox(prefix: string, options: SandboxOptions = {}): SandboxedFile {
  let dir: string | undefined;
  let sandbox: Sandbox | undefined;
  beforeAll(() => {
    // Its real path: the command names rc files by the real path of its folder, and the temporary folder is
    // reached through a symbolic link on macOS (/var is /private/var) and a short name on Windows (RUNNER~1).
    dir = realpathSync.native(mkdtempSync(join(tmpdir(), `linkface-${prefix}-`)));
  });
  afterAll(() => {
    if (dir) rmSync(dir, { recursive: true, force: true });
  });
  beforeEach(async () => {
    sandbox = await startSandbox(options);
  });
  afterEach(async () => {
    await sandbox?.close();
    sandbox = undefined;
  });
  const running = (): Sandbox => {
    if (!sandbox) throw new Error('useSandbox: the sandbox exists only while a test runs');
    return sandbox;
  };
  return {
    get dir() {
      if (!dir) throw new Error('useSandbox: the folder exists only while the file runs');
      return dir;
    },
    get sandbox() {
      return running();
    },
    get env() {
      return sandboxEnv(running().url);
    },
    async restart(next: SandboxOptions = {}) {
      await sandbox?.close();
      sandbox = await startSandbox(next);
      return sandbox;
    },
  };
}

/** The non-empty lines of a command's output. */
export const lines = (text: string): string[] => text.split('\n').filter((line) => line !== '');

export const sha256 = (data: string | Buffer): string => createHash('sha256').update(data).digest('hex');

/** A result record as `--json` prints it and a manifest holds it (SPEC "Output"): the library's own type. */
export type { ResultRecord };

/** NDJSON result records, one a line. */
export const parseRecords = (text: string): ResultRecord[] => lines(text).map((line) => JSON.parse(line) as ResultRecord);

/**
 * util-linux script(1) is there to give a command a pseudo-terminal (`script -qec COMMAND /dev/null`). The
 * pseudo-terminal tests run on Linux only: macOS has BSD script, which has no --version and takes other
 * arguments (`script -q FILE COMMAND…`), and Windows has no script(1) and no pseudo-terminals of this kind.
 */
export const HAS_SCRIPT = process.platform === 'linux' && spawnSync('script', ['--version']).status === 0;

/**
 * Runs `linkface ARGS` on a pseudo-terminal of 100 columns (script(1)), as a person at a terminal would, and
 * returns everything the terminal received (stdout and stderr together, as a screen shows them).
 */
export function runInTerminal(args: readonly string[], options: { env?: Record<string, string>; cwd?: string } = {}): Promise<{ code: number | null; screen: string }> {
  const quote = (word: string) => `'${word.replace(/'/g, `'\\''`)}'`;
  const command = `stty cols 100 rows 30; exec ${[process.execPath, BIN, ...args].map(quote).join(' ')}`;
  const home = mkdtempSync(join(tmpdir(), 'linkface-home-'));
  return new Promise((resolvePromise, reject) => {
    const child = spawn('script', ['-qec', command, '/dev/null'], {
      cwd: options.cwd ?? home,
      env: { PATH: process.env.PATH ?? '/usr/bin:/bin', HOME: home, TERM: 'xterm', ...options.env },
      stdio: ['ignore', 'pipe', 'inherit'],
    });
    const screen: Buffer[] = [];
    child.stdout.on('data', (chunk: Buffer) => screen.push(chunk));
    const timer = setTimeout(() => child.kill('SIGKILL'), 20_000);
    child.on('error', reject);
    child.on('close', (code) => {
      clearTimeout(timer);
      rmSync(home, { recursive: true, force: true });
      resolvePromise({ code, screen: Buffer.concat(screen).toString('utf8') });
    });
  });
}
