import { execFileSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { chmodSync, mkdirSync, mkdtempSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Readable } from 'node:stream';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { checkInputs, checkUrl, type UploadJob, withDigest } from '../../src/inputs/check.js';

let dir: string;
beforeAll(() => {
  dir = mkdtempSync(join(tmpdir(), 'linkface-inputs-'));
  writeFileSync(join(dir, 'ok.bin'), 'liveness');
  writeFileSync(join(dir, 'empty.bin'), '');
  writeFileSync(join(dir, 'big.bin'), Buffer.alloc(2048));
  writeFileSync(join(dir, 'secret.bin'), 'x');
  // Windows has no POSIX file modes: chmod 0o000 there only marks the file read-only (see the test below).
  if (process.platform !== 'win32') chmodSync(join(dir, 'secret.bin'), 0o000);
  mkdirSync(join(dir, 'folder'));
  symlinkSync(join(dir, 'missing-target'), join(dir, 'dangling'));
});
afterAll(() => rmSync(dir, { recursive: true, force: true }));

const check = (inputs: string[], stdin?: Readable & { isTTY?: boolean }) =>
  checkInputs(inputs, { maxSize: 1024, cwd: dir, ...(stdin ? { stdin } : {}) });

describe('checkInputs', () => {
  it('turns a good file into a job with its size; withDigest adds the SHA-256', async () => {
    const { jobs, problems } = await check(['ok.bin']);
    expect(problems).toEqual([]);
    const job = {
      input: 'ok.bin',
      kind: 'file',
      bytes: 8,
      payload: { kind: 'file', path: join(dir, 'ok.bin'), filename: 'ok.bin', bytes: 8 },
    };
    expect(jobs).toEqual([job]);
    // A small file is read once: hashed and then sent from memory.
    expect(await withDigest(jobs[0] as UploadJob)).toEqual({
      ...job,
      sha256: createHash('sha256').update('liveness').digest('hex'),
      payload: { kind: 'bytes', data: Buffer.from('liveness'), filename: 'ok.bin' },
    });
  });

  it('withDigest hashes a large file streaming and leaves it to be streamed again', async () => {
    const data = Buffer.alloc(300 * 1024, 3);
    writeFileSync(join(dir, 'large.bin'), data);
    const { jobs } = await checkInputs(['large.bin'], { maxSize: 1024 * 1024, cwd: dir });
    const digested = await withDigest(jobs[0] as UploadJob);
    expect(digested).toMatchObject({ sha256: createHash('sha256').update(data).digest('hex'), payload: { kind: 'file' } });
  });

  it('withDigest reports a small file whose size changed after the check', async () => {
    const path = join(dir, 'changing.bin');
    writeFileSync(path, 'four');
    const { jobs } = await check(['changing.bin']);
    writeFileSync(path, 'now longer');
    expect(await withDigest(jobs[0] as UploadJob)).toBe('the file changed size since it was checked (4 bytes, now 10)');
  });

  // Windows has no mkfifo (its named pipes live in \\.\pipe\, not among files).
  it.skipIf(process.platform === 'win32')('withDigest reports a file replaced by a named pipe after the check, without waiting for a writer', async () => {
    const path = join(dir, 'replaced.bin');
    writeFileSync(path, 'liveness');
    const { jobs } = await check(['replaced.bin']);
    rmSync(path);
    execFileSync('mkfifo', [path]);
    expect(await withDigest(jobs[0] as UploadJob)).toBe('is no longer a regular file (a named pipe)');
  });

  it('checks many inputs in order while the event loop goes on', async () => {
    const names = Array.from({ length: 1200 }, (_, i) => (i % 2 === 0 ? 'ok.bin' : 'missing.bin'));
    let turns = 0;
    const ticking = setInterval(() => turns++, 0);
    const { jobs, problems } = await check(names);
    clearInterval(ticking);
    expect(jobs).toHaveLength(600);
    expect(problems).toHaveLength(600);
    expect(problems[0]).toEqual({ input: 'missing.bin', reason: 'no such file or directory' });
    expect(turns).toBeGreaterThan(0);
  });

  it('checks the rest through the thread pool, in order, once most file checks are slow (a network share)', async () => {
    // Files (some missing), URLs and standard input mixed, every name distinct, so that an input put in the wrong
    // place shows. '-' comes once in the synchronous part and once in the rest.
    mkdirSync(join(dir, 'mixed'), { recursive: true });
    const names = Array.from({ length: 150 }, (_, i) => {
      if (i === 4 || i === 100) return '-';
      if (i % 3 === 0) return `mixed/gone-${i}.bin`;
      if (i % 3 === 1) {
        writeFileSync(join(dir, 'mixed', `f-${i}.bin`), 'x'.repeat((i % 7) + 1));
        return `mixed/f-${i}.bin`;
      }
      return `https://example.com/${i}.bin`;
    });
    // Every check seems to take 5 ms: after 16 file checks the rest go through the pool, where none is timed.
    let clock = 0;
    const now = vi.spyOn(performance, 'now').mockImplementation(() => (clock += 5));
    try {
      const { jobs, problems } = await check(names, Readable.from([Buffer.from('sdk')]));
      // 16 file checks come within the first 26 inputs; each input timed at most three times.
      expect(now.mock.calls.length).toBeLessThanOrEqual(1 + 3 * 26);
      const uploadable = names.filter((name, i) => !name.includes('gone') && i !== 100);
      expect(jobs.map((job) => job.input)).toEqual(uploadable);
      expect(jobs.map((job) => job.bytes)).toEqual(
        uploadable.map((name) => (name === '-' ? 3 : name.startsWith('mixed/') ? (Number(/f-(\d+)/.exec(name)?.[1]) % 7) + 1 : undefined)),
      );
      expect(problems).toEqual(
        names.flatMap((name, i) =>
          name.includes('gone')
            ? [{ input: name, reason: 'no such file or directory' }]
            : i === 100
              ? [{ input: '-', reason: "'-' (standard input) is given more than once" }]
              : [],
        ),
      );
    } finally {
      now.mockRestore();
    }
  });

  it('stays synchronous when a few file checks are slow (a garbage collection)', async () => {
    // The clock is read once to start, then before and after each check: every fourth file check seems to take
    // 1 ms, never more than half of a window, so every check runs synchronously (and is timed).
    const names = Array.from({ length: 60 }, (_, i) => (i % 2 === 0 ? 'ok.bin' : `https://example.com/${i}`));
    let calls = 0;
    let late = 0;
    const now = vi.spyOn(performance, 'now').mockImplementation(() => {
      calls++;
      const input = (calls - 3) / 2;
      if (calls >= 3 && Number.isInteger(input) && input % 8 === 0) late += 1;
      return calls * 0.001 + late;
    });
    try {
      const { jobs } = await check(names);
      expect(jobs).toHaveLength(60);
      expect(now.mock.calls.length).toBe(1 + 2 * 60);
    } finally {
      now.mockRestore();
    }
  });

  it('with threadPool, checks every file through the thread pool from the first (inputs of a watched folder)', async () => {
    const now = vi.spyOn(performance, 'now');
    try {
      const { jobs, problems } = await checkInputs(['ok.bin', 'missing.bin', 'ok.bin'], { maxSize: 1024, cwd: dir, threadPool: true });
      // No check was timed: none ran synchronously.
      expect(now.mock.calls.length).toBeLessThan(2);
      expect(jobs.map((job) => [job.input, job.bytes])).toEqual([
        ['ok.bin', 8],
        ['ok.bin', 8],
      ]);
      expect(problems).toEqual([{ input: 'missing.bin', reason: 'no such file or directory' }]);
    } finally {
      now.mockRestore();
    }
  });

  it('withDigest reports a file that vanished after the check', async () => {
    const path = join(dir, 'vanishing.bin');
    writeFileSync(path, 'here for now');
    const { jobs } = await check(['vanishing.bin']);
    rmSync(path);
    expect(await withDigest(jobs[0] as UploadJob)).toBe('no such file or directory');
  });

  it.each<[string, RegExp]>([
    ['nope.bin', /no such file/],
    ['empty.bin', /is empty/],
    ['big.bin', /is 2 KiB, over the 1 KiB limit/],
    ['folder', /is a directory/],
    ['dangling', /no such file/],
    // Windows has no /dev/null: there it is C:\dev\null, a missing file.
    ...(process.platform === 'win32' ? [] : [['/dev/null', /not a regular file \(a device\)/] as [string, RegExp]]),
    ['ftp://example.com/a.bin', /unsupported URL scheme 'ftp:'/],
    ['http://', /not a well-formed URL/],
    ['https://user:pw@example.com/a', /user name or password/],
  ])('rejects %s', async (input, reason) => {
    const { jobs, problems } = await check([input]);
    expect(jobs).toEqual([]);
    expect(problems).toHaveLength(1);
    expect(problems[0]?.reason).toMatch(reason);
  });

  // Root reads every file, so this runs as a normal user only; Windows has no POSIX modes (and no getuid), so a
  // file cannot be made unreadable with chmod there.
  it.skipIf(process.platform === 'win32' || process.getuid?.() === 0)('rejects an unreadable file (root reads every file, so this runs as a normal user only)', async () => {
    const { problems } = await check(['secret.bin']);
    expect(problems[0]?.reason).toMatch(/permission denied/);
  });

  it('lists every problem, not just the first, and keeps the good inputs', async () => {
    const { jobs, problems } = await check(['nope.bin', 'ok.bin', 'empty.bin']);
    expect(jobs.map((j) => j.input)).toEqual(['ok.bin']);
    expect(problems.map((p) => p.input)).toEqual(['nope.bin', 'empty.bin']);
  });

  it('reads - from standard input', async () => {
    const { jobs } = await check(['-'], Readable.from([Buffer.from('abc')]));
    expect(jobs[0]).toMatchObject({ input: '-', kind: 'file', bytes: 3, payload: { kind: 'bytes', filename: 'stdin' } });
    expect(jobs[0]?.sha256).toBe('ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad');
  });

  it.each([
    ['empty', [], /is empty/],
    ['over the limit', [Buffer.alloc(700), Buffer.alloc(700)], /more than 1\.37 KiB, over the 1 KiB limit/],
  ])('rejects standard input that is %s', async (_name, chunks, reason) => {
    const { problems } = await check(['-'], Readable.from(chunks));
    expect(problems[0]?.reason).toMatch(reason);
  });

  it('rejects - from a terminal and - given twice', async () => {
    const tty = Object.assign(Readable.from([]), { isTTY: true });
    expect((await check(['-'], tty)).problems[0]?.reason).toMatch(/standard input is a terminal/);
    const twice = await check(['-', '-'], Readable.from([Buffer.from('abc')]));
    expect(twice.problems).toEqual([{ input: '-', reason: expect.stringMatching(/more than once/) }]);
  });
});

describe('checkUrl', () => {
  it.each([
    ['https://example.com/a.bin', 'https://example.com/a.bin'],
    ['http://example.com/活体 数据.bin?x=é', 'http://example.com/%E6%B4%BB%E4%BD%93%20%E6%95%B0%E6%8D%AE.bin?x=%C3%A9'],
    ['HTTPS://Example.COM/a', 'https://example.com/a'],
  ])('sends %s percent-encoded as UTF-8', (input, sent) => {
    expect(checkUrl(input)).toEqual({ input, kind: 'url', payload: { kind: 'url', url: sent } });
  });
});
