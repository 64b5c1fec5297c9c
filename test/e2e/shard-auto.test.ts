/** `--shard auto` through the built command: CI variables split one batch with no overlap and no gap. */
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type Sandbox, startSandbox } from '../../src/sandbox/index.js';
import { lines, runCli, sandboxEnv } from './harness.js';

let dir: string;
let sandbox: Sandbox;
beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), 'linkface-shard-auto-'));
  mkdirSync(join(dir, 'captures'));
  for (let i = 0; i < 30; i++) writeFileSync(join(dir, 'captures', `${i}.bin`), `shard auto ${i}`);
  sandbox = await startSandbox();
});
afterAll(async () => {
  await sandbox.close();
  rmSync(dir, { recursive: true, force: true });
});

describe('--shard auto', () => {
  it('GitLab parallel: 3 jobs (CI_NODE_INDEX 1..3) upload every input exactly once', async () => {
    const printed: string[] = [];
    for (let index = 1; index <= 3; index++) {
      const run = await runCli(['upload', '--shard', 'auto', 'captures/'], {
        cwd: dir,
        env: { ...sandboxEnv(sandbox.url), CI_NODE_INDEX: String(index), CI_NODE_TOTAL: '3' },
      });
      expect(run.code, run.stderr).toBe(0);
      printed.push(...lines(run.stdout).map((line) => line.split('\t')[1] as string));
    }
    expect(printed.sort()).toEqual(Array.from({ length: 30 }, (_, i) => `captures/${i}.bin`).sort());
    expect(sandbox.uploads()).toHaveLength(30);
  });

  it('a Kubernetes Indexed Job (0-based JOB_COMPLETION_INDEX, LINKFACE_SHARD_COUNT) is the same split as --shard i/n', async () => {
    const auto = await runCli(['upload', '--dry-run', '--shard', 'auto', 'captures/'], { cwd: dir, env: { JOB_COMPLETION_INDEX: '1', LINKFACE_SHARD_COUNT: '3' } });
    const given = await runCli(['upload', '--dry-run', '--shard', '2/3', 'captures/'], { cwd: dir });
    expect(auto.code).toBe(0);
    expect(auto.stdout).toBe(given.stdout);
  });

  it('with no CI variables: exit 2, naming the variables it reads, nothing sent', async () => {
    const before = sandbox.requests.length;
    const run = await runCli(['upload', '--shard', 'auto', 'captures/'], { cwd: dir, env: sandboxEnv(sandbox.url) });
    expect(run.code).toBe(2);
    expect(run.stderr).toMatch(/--shard auto found no CI shard variables/);
    for (const name of ['CI_NODE_INDEX', 'CIRCLE_NODE_INDEX', 'BUILDKITE_PARALLEL_JOB', 'JOB_COMPLETION_INDEX', 'LINKFACE_SHARD_COUNT']) expect(run.stderr).toContain(name);
    expect(sandbox.requests.length).toBe(before);
  });
});
