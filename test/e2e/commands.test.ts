import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { EXPLAINED_STATUSES } from '../../src/explain/render.js';
import { STATUS_TABLE } from '../../src/explain/statuses.js';
import { FIXTURES, runCli } from './harness.js';

const VERSION = (JSON.parse(readFileSync(join(import.meta.dirname, '../../package.json'), 'utf8')) as { version: string }).version;

describe('linkface --help / --version', () => {
  it('prints the version', async () => {
    const run = await runCli(['--version']);
    expect(run).toMatchObject({ code: 0, stdout: `${VERSION}\n` });
  });

  it.each([[['--help']], [['upload', '--help']], [['explain', '--help']], [['config', 'show', '--help']], [['sandbox', '--help']], [['doctor', '--help']]])(
    '%j shows usage with examples',
    async (args) => {
      const run = await runCli(args);
      expect(run.code).toBe(0);
      expect(run.stdout).toMatch(/Usage: linkface/);
      expect(run.stdout).toMatch(/Examples:/);
    },
  );

  it('lists every command in the root help, and `help <command>` shows that command\'s own', async () => {
    const root = await runCli(['--help']);
    for (const name of ['upload', 'watch', 'explain', 'config', 'doctor', 'sandbox', 'completion']) {
      expect(root.stdout).toMatch(new RegExp(`^  ${name} `, 'm'));
    }
    const help = await runCli(['help', 'upload']);
    expect(help).toMatchObject({ code: 0 });
    expect(help.stdout).toMatch(/Usage: linkface upload \[options\] \[input\.\.\.\]/);
    expect(help.stdout).toMatch(/--manifest <file>/);
  });

  it('exits 2 for an unknown command, with a suggestion', async () => {
    const run = await runCli(['uplaod', 'x']);
    expect(run.code).toBe(2);
    expect(run.stderr).toMatch(/Did you mean upload\?/);
  });
});

describe('linkface explain', () => {
  it('lists every status', async () => {
    const run = await runCli(['explain']);
    expect(run.code).toBe(0);
    for (const status of EXPLAINED_STATUSES) expect(run.stdout).toMatch(new RegExp(`^${status}\\s`, 'm'));
  });

  it('explains one status: meaning, HTTP status, retry, next step', async () => {
    const run = await runCli(['explain', 'RATE_LIMIT_EXCEEDED']);
    expect(run.code).toBe(0);
    expect(run.stdout).toContain('RATE_LIMIT_EXCEEDED (HTTP 403)');
    expect(run.stdout).toContain(STATUS_TABLE.RATE_LIMIT_EXCEEDED.meaning.en);
    expect(run.stdout).toContain('retried: yes, and the batch slows down');
    expect(run.stdout).toContain(STATUS_TABLE.RATE_LIMIT_EXCEEDED.nextStep.en);
  });

  it('explains in Chinese', async () => {
    const run = await runCli(['explain', '--lang', 'zh', 'out_of_quota']);
    expect(run.code).toBe(0);
    expect(run.stdout).toContain(STATUS_TABLE.OUT_OF_QUOTA.meaning.zh);
  });

  it('exits 2 for an unknown status and suggests the near one', async () => {
    const run = await runCli(['explain', 'UNAUTHORISED']);
    expect(run.code).toBe(2);
    expect(run.stderr).toMatch(/Did you mean UNAUTHORIZED\?/);
  });
});

describe('linkface sandbox', () => {
  it('serves in the foreground, prints its URL, takes uploads, and stops on SIGTERM', async () => {
    let child: import('node:child_process').ChildProcess | undefined;
    const sandboxRun = runCli(['sandbox', '--port', '0', '--api-id', 'ci-id', '--api-secret', 'ci-secret'], {
      onSpawn: (c) => {
        child = c;
      },
      timeoutMs: 20_000,
    });
    const url = await new Promise<string>((resolve) => {
      let seen = '';
      child?.stdout?.on('data', (chunk: Buffer) => {
        seen += chunk.toString();
        const match = /^(http:\/\/127\.0\.0\.1:\d+)\n/.exec(seen);
        if (match?.[1]) resolve(match[1]);
      });
    });
    const upload = await runCli(['upload', join(FIXTURES, 'liveness/bob.bin')], {
      env: { LINKFACE_ENDPOINT: url, LINKFACE_API_ID: 'ci-id', LINKFACE_API_SECRET: 'ci-secret' },
    });
    expect(upload.code, upload.stderr).toBe(0);
    child?.kill('SIGTERM');
    const run = await sandboxRun;
    // Windows has no POSIX signals: child.kill('SIGTERM') terminates the sandbox at once, with no handler to run.
    if (process.platform === 'win32') expect(run.signal).toBe('SIGTERM');
    else expect(run.code).toBe(0);
    expect(run.stderr).toMatch(/listening on http:\/\/127\.0\.0\.1/);
    expect(run.stderr).toMatch(/POST \/resources\/upload_liveness_data.*OK/);
    expect(run.stderr).not.toContain('ci-secret');
  });

  it('rejects a bad fault option with exit 2', async () => {
    const run = await runCli(['sandbox', '--fail-rate', '2']);
    expect(run.code).toBe(2);
    expect(run.stderr).toMatch(/--fail-rate must be a number from 0 to 1/);
  });
});
