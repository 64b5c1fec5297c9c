import { spawn } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { BIN, FIXTURES, HAS_SCRIPT, runCli, runInTerminal, useSandbox } from './harness.js';

const ALICE = join(FIXTURES, 'liveness/alice.bin');
const ESC = '\u001b[';
const setup = useSandbox('output');

describe('colour and terminal control', () => {
  const failing = () => {
    const path = join(setup.dir, 'bad.bin');
    writeFileSync(path, 'LINKFACE-SANDBOX-STATUS:WRONG_LIVENESS_DATA');
    return path;
  };

  it('colours failures when FORCE_COLOR asks, and never colours stdout data', async () => {
    const run = await runCli(['upload', failing(), ALICE], { env: { ...setup.env, NO_COLOR: '', FORCE_COLOR: '1' } });
    expect(run.code).toBe(1);
    expect(run.stderr).toContain(`${ESC}31m✖`);
    expect(run.stdout).not.toContain(ESC);
  });

  it.each([
    ['NO_COLOR', { NO_COLOR: '1', FORCE_COLOR: '1' }, []],
    ['--no-color', { NO_COLOR: '', FORCE_COLOR: '1' }, ['--no-color']],
    ['FORCE_COLOR=0', { NO_COLOR: '', FORCE_COLOR: '0' }, []],
  ])('%s turns colour off', async (_name, colourEnv, flags) => {
    const run = await runCli(['upload', ...flags, failing()], { env: { ...setup.env, ...colourEnv } });
    expect(run.code).toBe(1);
    expect(run.stderr).toContain('✖');
    expect(run.stderr).not.toContain(ESC);
  });

  it('prints no spinner or cursor control when stderr is not a terminal', async () => {
    const run = await runCli(['upload', ALICE], { env: { ...setup.env, NO_COLOR: '' } });
    expect(run.code).toBe(0);
    expect(run.stderr).not.toContain(ESC);
    expect(run.stderr).toMatch(/^uploaded .*alice\.bin \(4 KiB\) in \d+ ms$/m);
  });

  /** Runs a shell command under script(1), which gives it a pseudo-terminal; the sandbox answers meanwhile. */
  const underTerminal = (command: string) =>
    new Promise<{ status: number | null; stdout: string }>((resolve) => {
      const child = spawn('script', ['-qec', command, '/dev/null'], {
        env: { PATH: process.env.PATH, HOME: setup.dir, TERM: 'xterm', ...setup.env },
        stdio: ['ignore', 'pipe', 'inherit'],
      });
      let stdout = '';
      child.stdout.on('data', (chunk: Buffer) => {
        stdout += chunk.toString();
      });
      const timer = setTimeout(() => child.kill('SIGKILL'), 15_000);
      child.on('close', (status) => {
        clearTimeout(timer);
        resolve({ status, stdout });
      });
    });
  // util-linux script(1) gives the pseudo-terminal: Linux only (see HAS_SCRIPT).
  it.skipIf(!HAS_SCRIPT)('falls back to plain lines on a terminal with no size', async () => {
    const run = await underTerminal(`${process.execPath} ${BIN} upload ${ALICE}`);
    expect(run.status).toBe(0);
    expect(run.stdout).not.toContain(`${ESC}?25l`);
    expect(run.stdout).toMatch(/uploaded .*alice\.bin/);
  });

  // util-linux script(1) gives the pseudo-terminal: Linux only (see HAS_SCRIPT).
  it.skipIf(!HAS_SCRIPT)('says a one-file failure once on a terminal: the explanation, not a second summary line', async () => {
    const run = await runInTerminal(['upload', failing()], { env: { ...setup.env, NO_COLOR: '1' } });
    expect(run.code).toBe(1);
    expect(run.screen).toMatch(/✖ .*bad\.bin: WRONG_LIVENESS_DATA \(HTTP 400\)/);
    expect(run.screen).toContain('next step:');
    expect(run.screen.match(/✖/g)).toHaveLength(1);
  });

  it.skipIf(!HAS_SCRIPT)('shows a spinner and a tick on a terminal (run under script(1) for a pseudo-terminal)', async () => {
    // script(1) gives the pty no size; a real terminal has one.
    const run = await underTerminal(`stty cols 100 rows 30; ${process.execPath} ${BIN} upload ${ALICE}`);
    expect(run.status).toBe(0);
    expect(run.stdout).toMatch(/[0-9a-f]{32}\r?\n/);
    expect(run.stdout).toContain(`${ESC}?25l`); // the spinner hides the cursor while it spins
    expect(run.stdout).toMatch(/✔.*Uploaded .*alice\.bin in \d+ ms/);
  });
});

// Windows has no POSIX signals: child.kill('SIGINT' | 'SIGTERM') terminates the child at once, so there is no
// handler to run, no grace and no exit 130.
describe.skipIf(process.platform === 'win32')('interruption', () => {
  it('SIGINT: nothing new starts, the upload in flight is abandoned after 2 s, exit 130', async () => {
    await setup.restart({ latencyMs: 10_000 });
    let child: import('node:child_process').ChildProcess | undefined;
    const started = Date.now();
    const pending = runCli(['upload', '--json', '-c', '1', ALICE, join(FIXTURES, 'liveness/bob.bin')], {
      env: setup.env,
      onSpawn: (c) => {
        child = c;
      },
    });
    await new Promise((resolve) => setTimeout(resolve, 1000));
    child?.kill('SIGINT');
    const run = await pending;
    expect(run.code).toBe(130);
    expect(Date.now() - started).toBeLessThan(6000);
    expect(run.stderr).toMatch(/interrupted; finishing uploads in flight/);
    // One of the two was in flight and abandoned after 2 s; the other never started. Which is which depends
    // on which file was read first.
    const records = run.stdout
      .trimEnd()
      .split('\n')
      .map((line) => JSON.parse(line) as { input: string; status: string; reason?: string });
    expect(records.map((r) => r.status).sort()).toEqual(['NETWORK_ERROR', 'NOT_ATTEMPTED']);
    expect(records.map((r) => r.input.split('/').pop()).sort()).toEqual(['alice.bin', 'bob.bin']);
    expect(records.find((r) => r.status === 'NETWORK_ERROR')?.reason).toMatch(/interrupted before the server answered/);
    expect(setup.sandbox.requests).toHaveLength(1);
  });

  it('a second SIGINT exits at once; SIGTERM behaves as the first SIGINT', async () => {
    await setup.restart({ latencyMs: 10_000 });
    for (const signals of [['SIGINT', 'SIGINT'], ['SIGTERM']] as const) {
      let child: import('node:child_process').ChildProcess | undefined;
      const pending = runCli(['upload', '--quiet', ALICE], { env: setup.env, onSpawn: (c) => (child = c) });
      await new Promise((resolve) => setTimeout(resolve, 800));
      const sent = Date.now();
      for (const signal of signals) {
        child?.kill(signal);
        await new Promise((resolve) => setTimeout(resolve, 100));
      }
      const run = await pending;
      expect(run.code).toBe(130);
      // Twice: out at once; once: the in-flight upload gets its 2 s.
      if (signals.length === 2) expect(Date.now() - sent).toBeLessThan(1500);
      else expect(Date.now() - sent).toBeGreaterThanOrEqual(1900);
      expect(run.stderr).toMatch(signals.length === 2 ? /interrupted again; exiting now/ : /finishing uploads in flight/);
    }
  });
});
