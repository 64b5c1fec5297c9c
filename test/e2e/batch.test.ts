import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import type { Sandbox } from '../../src/sandbox/index.js';
import { lines, parseRecords, runCli, sha256, useSandbox } from './harness.js';

const setup = useSandbox('batch');

/** A fresh folder of n distinct files `captures/<sub>/<i>.bin` (two subfolders) plus noise to be skipped. */
function captures(name: string, n: number): string {
  const dir = join(setup.dir, name);
  for (let i = 0; i < n; i++) {
    const sub = join(dir, 'captures', i % 2 ? 'day2' : 'day1');
    mkdirSync(sub, { recursive: true });
    writeFileSync(join(sub, `${String(i).padStart(3, '0')}.bin`), `${name} liveness ${i}`);
  }
  writeFileSync(join(dir, 'captures', '.hidden.bin'), 'hidden');
  writeFileSync(join(dir, 'captures', 'notes.txt'), 'not liveness');
  return dir;
}


/** How many times each content was stored by the server. */
function storedCounts(server: Sandbox): Map<string, number> {
  const counts = new Map<string, number>();
  for (const upload of server.uploads()) counts.set(upload.file?.sha256 ?? '', (counts.get(upload.file?.sha256 ?? '') ?? 0) + 1);
  return counts;
}

describe('batch inputs through the built command', () => {
  it('walks a directory (hidden files skipped), printing <id><TAB><input> per upload', async () => {
    const dir = captures('walk', 6);
    const run = await runCli(['upload', 'captures/', '--exclude', '*.txt'], { env: setup.env, cwd: dir });
    expect(run.code, run.stderr).toBe(0);
    const rows = lines(run.stdout).map((line) => line.split('\t'));
    expect(rows.map(([, input]) => input).sort()).toEqual(
      ['000', '002', '004'].map((n) => `captures/day1/${n}.bin`).concat(['001', '003', '005'].map((n) => `captures/day2/${n}.bin`)),
    );
    expect(new Set(rows.map(([id]) => id))).toEqual(new Set(setup.sandbox.uploads().map((u) => u.livenessDataId)));
    expect(setup.sandbox.uploads()).toHaveLength(6);
    expect(run.stderr).toMatch(/6 uploaded, 0 retries; .* in .* \(.* files\/s\)/);
  });

  it('prints no Node warning with many uploads in flight (-c 16)', async () => {
    const dir = captures('wide', 40);
    const run = await runCli(['upload', 'captures/', '--exclude', '*.txt', '-c', '16'], { env: setup.env, cwd: dir });
    expect(run.code, run.stderr).toBe(0);
    expect(lines(run.stdout)).toHaveLength(40);
    expect(run.stderr).not.toMatch(/Warning|\(node:\d+\)/);
  });

  it('expands a quoted glob itself, with --include/--exclude', async () => {
    const dir = captures('glob', 6);
    const run = await runCli(['upload', 'captures/**/*.bin', '--exclude', 'captures/day2/**'], { env: setup.env, cwd: dir });
    expect(run.code, run.stderr).toBe(0);
    expect(lines(run.stdout).map((line) => line.split('\t')[1]).sort()).toEqual(['000', '002', '004'].map((n) => `captures/day1/${n}.bin`));
  });

  it('reads inputs from --files-from, from a file and from standard input', async () => {
    const dir = captures('list', 4);
    writeFileSync(join(dir, 'list.txt'), '# today\ncaptures/day1/000.bin\n\ncaptures/day2/001.bin\n');
    const fromFile = await runCli(['upload', '--files-from', 'list.txt'], { env: setup.env, cwd: dir });
    expect(fromFile.code, fromFile.stderr).toBe(0);
    expect(lines(fromFile.stdout)).toHaveLength(2);
    const fromStdin = await runCli(['upload', '--files-from', '-', '--json'], { env: setup.env, cwd: dir, stdin: 'captures/day1/002.bin\n' });
    expect(fromStdin.code, fromStdin.stderr).toBe(0);
    expect(parseRecords(fromStdin.stdout).map((r) => r.input)).toEqual(['captures/day1/002.bin']);
  });

  it('uploads identical content once and reports its id for both inputs', async () => {
    const dir = join(setup.dir, 'dupes');
    mkdirSync(dir);
    writeFileSync(join(dir, 'a.bin'), 'same bytes');
    writeFileSync(join(dir, 'b.bin'), 'same bytes');
    const run = await runCli(['upload', 'a.bin', 'b.bin'], { env: setup.env, cwd: dir });
    expect(run.code, run.stderr).toBe(0);
    const ids = lines(run.stdout).map((line) => line.split('\t')[0]);
    expect(ids).toHaveLength(2);
    expect(ids[0]).toBe(ids[1]);
    expect(setup.sandbox.uploads()).toHaveLength(1);
  });

  it('--shard i/n: the shards together upload every input exactly once', async () => {
    const dir = captures('shards', 30);
    const seen: string[] = [];
    for (const shard of ['1/3', '2/3', '3/3']) {
      const run = await runCli(['upload', 'captures/', '--exclude', '*.txt', '--shard', shard], { env: setup.env, cwd: dir });
      expect(run.code, run.stderr).toBe(0);
      seen.push(...lines(run.stdout).map((line) => line.split('\t')[1] as string));
    }
    expect(seen).toHaveLength(30);
    expect(new Set(seen).size).toBe(30);
    expect(setup.sandbox.uploads()).toHaveLength(30);
    const bad = await runCli(['upload', 'captures/', '--shard', '4/3'], { env: setup.env, cwd: dir });
    expect(bad.code).toBe(2);
    expect(bad.stderr).toMatch(/--shard/);
  });

  it('--dry-run lists what would be uploaded and skipped, and sends nothing', async () => {
    const dir = captures('dry', 4);
    const run = await runCli(['upload', '--dry-run', 'captures/', '--exclude', '*.txt'], { cwd: dir });
    expect(run.code, run.stderr).toBe(0);
    expect(lines(run.stdout).every((line) => line.startsWith('upload\tcaptures/'))).toBe(true);
    expect(lines(run.stdout)).toHaveLength(4);
    expect(run.stderr).toMatch(/Dry run: 4 would be uploaded .*; 0 skipped|Dry run: 4 would be uploaded \(.*\), 0 skipped; nothing was sent/);
    expect(setup.sandbox.requests).toHaveLength(0);
  });

  it('reports a partial failure with exit 1, the rest uploaded', async () => {
    const dir = captures('partial', 4);
    writeFileSync(join(dir, 'captures', 'day1', 'bad.bin'), 'LINKFACE-SANDBOX-STATUS:WRONG_LIVENESS_DATA');
    const run = await runCli(['upload', 'captures/', '--exclude', '*.txt', '--json'], { env: setup.env, cwd: dir });
    expect(run.code).toBe(1);
    const byStatus = parseRecords(run.stdout).map((r) => r.status);
    expect(byStatus.filter((s) => s === 'OK')).toHaveLength(4);
    expect(byStatus.filter((s) => s === 'WRONG_LIVENESS_DATA')).toHaveLength(1);
    expect(run.stderr).toMatch(/captures\/day1\/bad\.bin: WRONG_LIVENESS_DATA \(HTTP 400\)/);
  });

  it('stops at an account failure mid-batch: exit 3, the rest NOT_ATTEMPTED and recorded', async () => {
    await setup.restart({ latencyMs: 30 });
    const dir = captures('account', 20);
    setup.sandbox.enqueue({ kind: 'status', status: 'OK' }, { kind: 'status', status: 'OK' }, { kind: 'status', status: 'OUT_OF_QUOTA' });
    const run = await runCli(['upload', 'captures/', '--exclude', '*.txt', '-c', '1', '--manifest', 'm.ndjson'], {
      env: setup.env,
      cwd: dir,
    });
    expect(run.code).toBe(3);
    const manifest = parseRecords(readFileSync(join(dir, 'm.ndjson'), 'utf8'));
    expect(manifest).toHaveLength(20);
    expect(manifest.filter((r) => r.status === 'OK')).toHaveLength(2);
    expect(manifest.filter((r) => r.status === 'OUT_OF_QUOTA')).toHaveLength(1);
    expect(manifest.filter((r) => r.status === 'NOT_ATTEMPTED')).toHaveLength(17);
    expect(setup.sandbox.requests).toHaveLength(3);
    expect(run.stderr).toMatch(/17 not attempted: the account cannot upload \(OUT_OF_QUOTA\)/);
  });

  // Windows has no POSIX signals: child.kill('SIGINT') terminates the run at once, with nothing recorded.
  it.skipIf(process.platform === 'win32')('an interrupted run, resumed with --resume, uploads exactly what is missing', async () => {
    await setup.restart({ latencyMs: 100 });
    const dir = captures('resume', 40);
    const args = ['upload', 'captures/', '--exclude', '*.txt', '-c', '2', '--manifest', 'm.ndjson', '--resume'];
    let child: import('node:child_process').ChildProcess | undefined;
    const first = runCli(args, { env: setup.env, cwd: dir, onSpawn: (c) => (child = c) });
    await new Promise((resolve) => setTimeout(resolve, 900));
    child?.kill('SIGINT');
    const interrupted = await first;
    expect(interrupted.code).toBe(130);
    const firstRecords = parseRecords(readFileSync(join(dir, 'm.ndjson'), 'utf8'));
    const uploadedFirst = firstRecords.filter((r) => r.ok).length;
    expect(uploadedFirst).toBeGreaterThan(0);
    expect(uploadedFirst).toBeLessThan(40);
    expect(uploadedFirst).toBe(setup.sandbox.uploads().length);

    const second = await runCli(args, { env: setup.env, cwd: dir });
    expect(second.code, second.stderr).toBe(0);
    // Every input's id is printed: those uploaded now, and those the manifest shows uploaded before.
    expect(lines(second.stdout)).toHaveLength(40);
    for (const r of firstRecords.filter((f) => f.ok)) expect(second.stdout).toContain(`${r.liveness_data_id}\t${r.input}\n`);
    const counts = storedCounts(setup.sandbox);
    const expected = Array.from({ length: 40 }, (_, i) => sha256(`resume liveness ${i}`));
    expect([...counts.keys()].sort()).toEqual(expected.sort());
    expect([...counts.values()].every((n) => n === 1)).toBe(true);

    const third = await runCli(args, { env: setup.env, cwd: dir });
    expect(third.code).toBe(0);
    const manifestIds = new Map(parseRecords(readFileSync(join(dir, 'm.ndjson'), 'utf8')).map((r) => [r.input, r.liveness_data_id]));
    expect(lines(third.stdout).sort()).toEqual([...manifestIds].map(([input, id]) => `${id}\t${input}`).sort());
    expect(third.stderr).toMatch(/0 uploaded, 40 already uploaded/);
    expect(storedCounts(setup.sandbox).size).toBe(40);
  });
});
