/**
 * What the server says is data: the built command against a server that answers whatever a test scripts,
 * byte for byte (test/e2e/hostile-server.ts), as an attacker in the network path or a broken gateway would.
 * Each answer either works as documented or ends as a failure that is explained; nothing it says can forge a
 * line of stdout, reach the terminal as a control code, or carry the secret into any output or manifest.
 * Checked through pipes and, where a person would see it, on a pseudo-terminal.
 */
import { execFile } from 'node:child_process';
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { BIN, HAS_SCRIPT, lines, parseRecords, runCli, runInTerminal, sha256 } from './harness.js';
import { type HostileServer, jsonAnswer, rawAnswer, startHostileServer } from './hostile-server.js';

const run = promisify(execFile);

/** The secret the command is given; no substring of 6 characters or more of it may appear in any output. */
const SECRET = 'Zq7-S3CR3T-wx9K-17';
/** Raw control codes that would act on a terminal: NUL, BEL, BS, CR, ESC, CSI (C1). Tabs and newlines are checked apart. */
const RAW_CONTROL = /[\u0000\u0007\u0008\u000d\u001b\u009b]/;

let root: string;
let server: HostileServer | undefined;
let counter = 0;

beforeAll(() => {
  root = mkdtempSync(join(tmpdir(), 'linkface-answers-'));
});
afterAll(() => rmSync(root, { recursive: true, force: true }));
afterEach(async () => {
  await server?.close();
  server = undefined;
});

/** A fresh folder with these files (name → content). */
function folder(files: Record<string, string>): string {
  const dir = join(root, `case-${counter++}`);
  mkdirSync(dir);
  for (const [name, content] of Object.entries(files)) writeFileSync(join(dir, name), content);
  return dir;
}

const ok = (id: string) => jsonAnswer('200 OK', { status: 'OK', liveness_data_id: id, request_id: 'TID1' });

/** A server answering each file by its content (the same answer every time), or `otherwise`. */
async function serve(byContent: Record<string, Buffer | Buffer[]>, otherwise: Buffer = ok('id-other')): Promise<HostileServer> {
  const bySha = new Map(Object.entries(byContent).map(([content, answer]) => [sha256(content), answer]));
  const seen = new Map<string, number>();
  server = await startHostileServer((_index, sha) => {
    const answer = sha === undefined ? undefined : bySha.get(sha);
    if (!Array.isArray(answer)) return answer ?? otherwise;
    // A list: one answer per attempt, the last one repeated.
    const n = seen.get(sha as string) ?? 0;
    seen.set(sha as string, n + 1);
    return answer[Math.min(n, answer.length - 1)] as Buffer;
  });
  return server;
}

const envFor = (url: string, secret = SECRET) => ({ LINKFACE_ENDPOINT: url, LINKFACE_API_ID: 'hostile-id', LINKFACE_API_SECRET: secret });

/** Every substring of the secret of at least `min` characters. */
const secretParts = (secret: string, min = 6) => {
  const parts: string[] = [];
  for (let i = 0; i + min <= secret.length; i++) parts.push(secret.slice(i, i + min));
  return parts;
};
function expectNoSecret(text: string, where: string, secret = SECRET): void {
  for (const part of secretParts(secret, Math.min(6, secret.length))) expect(text.includes(part), `${where} holds "${part}"`).toBe(false);
}

describe('an id that would forge output is not an id', () => {
  it.each([
    ['a newline and a tab (a forged second record)', 'id-1\nFORGED\tline', 'id-1\\nFORGED\\tline'],
    ['a carriage return (hides the real id)', 'real\rfake', 'real\\rfake'],
    ['a clear-screen escape', 'id\u001b[2J', 'id\\x1b[2J'],
    ['only spaces', '   ', 'only white space'],
  ])('%s: BAD_RESPONSE, nothing on stdout, exit 1', async (_name, id, shownInReason) => {
    const { url } = await serve({ hostile: ok(id) });
    const dir = folder({ 'f.bin': 'hostile', 'g.bin': 'fine' });
    const run = await runCli(['upload', '--manifest', 'm.ndjson', 'f.bin', 'g.bin'], { env: envFor(url), cwd: dir });
    expect(run.code).toBe(1);
    // Exactly one record on stdout: the good input's.
    expect(run.stdout).toBe('id-other\tg.bin\n');
    expect(run.stderr).toMatch(/f\.bin: BAD_RESPONSE \(HTTP 200\)/);
    expect(run.stderr).toContain(shownInReason);
    expect(run.stderr).not.toMatch(RAW_CONTROL);
    // The manifest keeps the exact value, JSON-escaped, in one line per record.
    const records = parseRecords(readFileSync(join(dir, 'm.ndjson'), 'utf8'));
    expect(records).toHaveLength(2);
    const bad = records.find((r) => r.input === 'f.bin');
    expect(bad).toMatchObject({ ok: false, status: 'BAD_RESPONSE', attempts: 1 });
    expect(bad?.liveness_data_id).toBeUndefined();
    if (id.trim() !== '') expect(bad?.reason).toContain(id);
  });

  it('ID=$(linkface upload f) gets nothing when the id is not printable', async () => {
    const { url } = await serve({ hostile: ok('id-1\nFORGED') });
    const dir = folder({ 'f.bin': 'hostile' });
    const { stdout } = await run('bash', ['-c', 'ID=$("$NODE" "$BIN" upload f.bin 2>/dev/null); echo "status=$? id=[$ID]"'], {
      cwd: dir,
      env: { PATH: process.env.PATH, HOME: dir, NODE: process.execPath, BIN, ...envFor(url) },
    });
    expect(stdout).toBe('status=1 id=[]\n');
  });
});

describe('control codes from the server never reach a terminal or a line of output', () => {
  const HOSTILE = {
    reason: 'clear\u001b[2J title\u001b]0;pwned\u0007 nul\u0000 bs\u0008 csi\u009b2J',
    requestId: 'TID\u001b[31mred',
  };
  const answers = {
    'reason and request id': jsonAnswer('400 Bad Request', { status: 'INVALID_ARGUMENT', reason: HOSTILE.reason, request_id: HOSTILE.requestId }),
    'unknown status': jsonAnswer('400 Bad Request', { status: 'EVIL\u001b[2J', request_id: 'TID2' }),
    'gateway page': rawAnswer('200 OK', { 'Content-Type': 'text/html' }, '<html><head><title>\u001b]0;pwned\u0007Gateway\u001b[2J</title></head></html>'),
    'C1 code in status': jsonAnswer('400 Bad Request', { status: 'NEW_CODE\u009b2J' }),
  };
  const files = Object.fromEntries(Object.keys(answers).map((name, i) => [`f${i}.bin`, name]));

  it('through pipes: escaped on stderr, exact in --json and the manifest', async () => {
    const { url } = await serve(answers);
    const dir = folder(files);
    const run = await runCli(['upload', '--verbose', '--manifest', 'm.ndjson', '.'], { env: envFor(url), cwd: dir });
    expect(run.code).toBe(1);
    expect(run.stdout).toBe('');
    expect(run.stderr).not.toMatch(RAW_CONTROL);
    expect(run.stderr).toContain('clear\\x1b[2J title\\x1b]0;pwned\\x07 nul\\x00 bs\\x08 csi\\x9b2J');
    expect(run.stderr).toContain('request id: TID\\x1b[31mred');
    expect(run.stderr).toContain('\\x1b]0;pwned\\x07Gateway\\x1b[2J');
    expect(run.stderr).toMatch(/not an error code \("EVIL\\x1b\[2J"\)/);
    const manifest = readFileSync(join(dir, 'm.ndjson'), 'utf8');
    expect(manifest).not.toMatch(RAW_CONTROL);
    const records = parseRecords(manifest);
    expect(records.find((r) => r.status === 'INVALID_ARGUMENT')).toMatchObject({ reason: HOSTILE.reason, request_id: HOSTILE.requestId });

    const json = await runCli(['upload', '--json', '.'], { env: envFor(url), cwd: dir });
    expect(json.stdout).not.toMatch(RAW_CONTROL);
    expect(parseRecords(json.stdout).find((r) => r.status === 'INVALID_ARGUMENT')).toMatchObject({ reason: HOSTILE.reason });
  });

  it.skipIf(!HAS_SCRIPT)('on a terminal: no clear-screen, no window title, no bell; the codes are shown escaped', async () => {
    const { url } = await serve(answers);
    const dir = folder(files);
    const run = await runInTerminal(['upload', '.'], { env: envFor(url), cwd: dir });
    expect(run.code).toBe(1);
    expect(run.screen).not.toContain('\u001b[2J');
    expect(run.screen).not.toContain('\u001b]0;');
    expect(run.screen).not.toContain('\u0007');
    expect(run.screen).not.toContain('\u009b');
    expect(run.screen).toContain('clear\\x1b[2J');
    // The spinner's own cursor codes are there: this was a terminal.
    expect(run.screen).toContain('\u001b[?25l');
  });

  it('a manifest line whose id holds control codes is not replayed by --resume', async () => {
    const { url } = await serve({});
    const dir = folder({ 'f.bin': 'replayed' });
    const forged = { input: 'f.bin', kind: 'file', sha256: sha256('replayed'), ok: true, status: 'OK', liveness_data_id: 'id\u001b[2J' };
    writeFileSync(join(dir, 'm.ndjson'), `${JSON.stringify(forged)}\n`);
    const run = await runCli(['upload', '--manifest', 'm.ndjson', '--resume', 'f.bin'], { env: envFor(url), cwd: dir });
    expect(run.code).toBe(0);
    expect(run.stdout).toBe('id-other\n');
    expect(run.stderr).toMatch(/1 line\(s\) of m\.ndjson .*ignored/);
    expect(server?.received).toHaveLength(1);
  });
});

describe('the secret never leaves, whatever the server echoes', () => {
  it('in a reason, inside an id, in a gateway page cut at the secret: not in stdout, stderr, --json or the manifest', async () => {
    const straddling = `${'x'.repeat(70)}${SECRET} and the rest of the page`;
    const { url } = await serve({
      'echo-reason': jsonAnswer('400 Bad Request', { status: 'INVALID_ARGUMENT', reason: `bad api_secret=${SECRET}` }),
      'echo-id': ok(`id-${SECRET}`),
      'echo-page': rawAnswer('502 Bad Gateway', { 'Content-Type': 'text/plain' }, straddling),
    });
    const dir = folder({ 'a.bin': 'echo-reason', 'b.bin': 'echo-id', 'c.bin': 'echo-page', 'd.bin': 'fine' });
    for (const mode of [['--verbose'], ['--json']]) {
      const manifest = `m${mode[0]}.ndjson`;
      const run = await runCli(['upload', '--retries', '0', '--manifest', manifest, ...mode, 'a.bin', 'b.bin', 'c.bin', 'd.bin'], { env: envFor(url), cwd: dir });
      expect(run.code).toBe(1);
      expectNoSecret(run.stdout, `stdout ${mode}`);
      expectNoSecret(run.stderr, `stderr ${mode}`);
      const written = readFileSync(join(dir, manifest), 'utf8');
      expectNoSecret(written, `manifest ${mode}`);
      const records = parseRecords(written);
      // The id that held the secret is refused, not printed altered: only the good input has an id.
      expect(records.filter((r) => r.liveness_data_id).map((r) => r.input)).toEqual(['d.bin']);
      expect(records.find((r) => r.input === 'b.bin')?.reason).toMatch(/contains the API secret/);
      expect(records.find((r) => r.input === 'a.bin')?.reason).toBe('bad api_secret=***');
      expect(records.find((r) => r.input === 'c.bin')?.reason).toContain('***');
    }
  });

  it.each([
    ['1 character', 'Q'],
    ['4 characters', 'k3Y!'],
    ['64 characters', 'L'.repeat(20) + 'm9-'.repeat(8) + 'N'.repeat(20)],
  ])('a secret of %s is redacted from every output and the manifest', async (_name, secret) => {
    const { url } = await serve({ echo: jsonAnswer('400 Bad Request', { status: 'INVALID_ARGUMENT', reason: `you sent ${secret}`, request_id: `T-${secret}` }) }, ok('id-0001'));
    const dir = folder({ 'a.bin': 'echo', 'b.bin': 'fine' });
    for (const mode of [['--verbose'], ['--json', '--verbose']]) {
      const run = await runCli(['upload', '--manifest', 'm.ndjson', ...mode, '.'], { env: envFor(url, secret), cwd: dir });
      expect(run.code).toBe(1);
      for (const [where, text] of [['stdout', run.stdout], ['stderr', run.stderr], ['manifest', readFileSync(join(dir, 'm.ndjson'), 'utf8')]]) {
        expect((text as string).includes(secret), `${where} ${mode} holds the secret`).toBe(false);
      }
      expect(run.stdout).toContain('id-0001');
    }
  });
});

describe('a success needs an HTTP 2xx and a valid body', () => {
  it.each([
    ['301 with a Location', rawAnswer('301 Moved Permanently', { Location: 'https://elsewhere.example/', 'Content-Type': 'application/json' }, '{"status":"OK","liveness_data_id":"id-1"}'), /redirects to https:\/\/elsewhere\.example\//, 1],
    ['404', jsonAnswer('404 Not Found', { status: 'OK', liveness_data_id: 'id-1' }), /HTTP 404 with a success body/, 1],
    ['500 (retried)', jsonAnswer('500 Internal Server Error', { status: 'OK', liveness_data_id: 'id-1' }), /HTTP 500 with a success body/, 2],
  ])('"status":"OK" with an id, on a %s, is not an upload', async (_name, answer, reason, attempts) => {
    const { url } = await serve({ x: answer });
    const dir = folder({ 'f.bin': 'x' });
    const run = await runCli(['upload', '--retries', '1', '--json', 'f.bin'], { env: envFor(url), cwd: dir });
    expect(run.code).toBe(1);
    const [record] = parseRecords(run.stdout);
    expect(record).toMatchObject({ ok: false, status: 'BAD_RESPONSE', attempts });
    expect(record?.liveness_data_id).toBeUndefined();
    expect(record?.reason).toMatch(reason);
    expect(server?.received).toHaveLength(attempts);
  });
});

describe('real-world answers read right', () => {
  it('JSON after a byte-order mark is a success', async () => {
    const { url } = await serve({ x: rawAnswer('200 OK', { 'Content-Type': 'application/json' }, '\ufeff{"status":"OK","liveness_data_id":"id-bom"}') });
    const dir = folder({ 'f.bin': 'x' });
    const run = await runCli(['upload', 'f.bin'], { env: envFor(url), cwd: dir });
    expect(run.code, run.stderr).toBe(0);
    expect(run.stdout).toBe('id-bom\n');
  });

  it.each([
    ['without Retry-After', {}],
    ['with Retry-After', { 'Retry-After': '1' }],
  ])("a gateway's plain 429 %s is a rate limit: retried, then uploaded", async (_name, headers) => {
    const tooMany = rawAnswer('429 Too Many Requests', { 'Content-Type': 'text/plain', ...headers }, 'Too Many Requests');
    const { url } = await serve({ x: [tooMany, ok('id-after-429')] });
    const dir = folder({ 'f.bin': 'x' });
    const run = await runCli(['upload', '--json', '--verbose', 'f.bin'], { env: envFor(url), cwd: dir });
    expect(run.code, run.stderr).toBe(0);
    expect(parseRecords(run.stdout)).toEqual([expect.objectContaining({ ok: true, liveness_data_id: 'id-after-429', attempts: 2 })]);
    expect(run.stderr).toMatch(/429 RATE_LIMIT_EXCEEDED .*retrying in/);
  });
});

describe('--resume gives a script the id the manifest holds', () => {
  it('ID=$(linkface upload --manifest m --resume f.bin) prints the earlier id; --json says it was uploaded earlier', async () => {
    const { url } = await serve({}, ok('id-first-run'));
    const dir = folder({ 'f.bin': 'uploaded once' });
    const args = ['upload', '--manifest', 'm.ndjson', '--resume', 'f.bin'];
    expect((await runCli(args, { env: envFor(url), cwd: dir })).stdout).toBe('id-first-run\n');
    const again = await runCli(args, { env: envFor(url), cwd: dir });
    expect(again.code).toBe(0);
    expect(again.stdout).toBe('id-first-run\n');
    const json = await runCli([...args, '--json'], { env: envFor(url), cwd: dir });
    expect(parseRecords(json.stdout)).toEqual([
      expect.objectContaining({ input: 'f.bin', ok: true, status: 'OK', resumed: true, liveness_data_id: 'id-first-run', attempts: 0 }),
    ]);
    // Sent once, recorded once.
    expect(server?.received).toHaveLength(1);
    expect(lines(readFileSync(join(dir, 'm.ndjson'), 'utf8'))).toHaveLength(1);
  });
});

describe('long waits are said, with what they wait for and until when', () => {
  const refusedOnce = (retryAfter: string) => [rawAnswer('429 Too Many Requests', { 'Retry-After': retryAfter, 'Content-Type': 'text/plain' }, 'slow down'), ok('id-waited')];

  it('in plain output (CI)', async () => {
    const { url } = await serve({ x: refusedOnce('3') });
    const dir = folder({ 'f.bin': 'x' });
    const run = await runCli(['upload', 'f.bin'], { env: envFor(url), cwd: dir });
    expect(run.code, run.stderr).toBe(0);
    expect(run.stdout).toBe('id-waited\n');
    expect(run.stderr).toMatch(/^waiting 3 s, until \d\d:\d\d:\d\d, to retry f\.bin: RATE_LIMIT_EXCEEDED \(HTTP 429\), the server's Retry-After$/m);
  });

  it.skipIf(!HAS_SCRIPT)('on the progress line of a terminal', async () => {
    const { url } = await serve({ x: refusedOnce('3') });
    const dir = folder({ 'f.bin': 'x' });
    const run = await runInTerminal(['upload', 'f.bin'], { env: envFor(url), cwd: dir });
    expect(run.code).toBe(0);
    expect(run.screen).toMatch(/Uploading f\.bin · RATE_LIMIT_EXCEEDED \(HTTP 429\): waiting until \d\d:\d\d:\d\d \(the server's Retry-After\)/);
  });

  it('in a batch, a Retry-After holds back the input it came with, not every slot: each file is uploaded once', async () => {
    const contents = Array.from({ length: 6 }, (_, i) => `batch ${i}`);
    const { url } = await serve(Object.fromEntries(contents.map((c) => [c, refusedOnce('2')])));
    const dir = folder(Object.fromEntries(contents.map((c, i) => [`f${i}.bin`, c])));
    const run = await runCli(['upload', '-c', '3', '--json', '.'], { env: envFor(url), cwd: dir, timeoutMs: 40_000 });
    expect(run.code, run.stderr).toBe(0);
    const records = parseRecords(run.stdout);
    expect(records).toHaveLength(6);
    for (const record of records) expect(record).toMatchObject({ ok: true, liveness_data_id: 'id-waited', attempts: 2 });
    // Each file: refused once, then stored once.
    for (const content of contents) expect(server?.received.filter((s) => s === sha256(content))).toHaveLength(2);
  });
});
