import { createHash } from 'node:crypto';
import { spawn, spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import type { ResultRecord } from '../../src/engine/run.js';

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
