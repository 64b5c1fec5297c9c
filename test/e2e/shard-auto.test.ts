/** `--shard auto` through the built command: CI variables split one batch with no overlap and no gap. */
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { lines, runCli, useSandbox } from './harness.js';

const setup = useSandbox('shard-auto');
beforeAll(() => {
  mkdirSync(join(setup.dir, 'captures'));
  for (let i = 0; i < 30; i++) writeFileSync(join(setup.dir, 'captures', `${i}.bin`), `shard auto ${i}`);
});

describe('--shard auto', () => {
  it('GitLab parallel: 3 jobs (CI_NODE_INDEX 1..3) upload every input exactly once', async () => {
    const printed: string[] = [];
    for (let index = 1; index <= 3; index++) {
      const run = await runCli(['upload', '--shard', 'auto', 'captures/'], {
        cwd: setup.dir,
        env: { ...setup.env, CI_NODE_INDEX: String(index), CI_NODE_TOTAL: '3' },
      });
      expect(run.code, run.stderr).toBe(0);
      printed.push(...lines(run.stdout).map((line) => line.split('\t')[1] as string));
    }
    expect(printed.sort()).toEqual(Array.from({ length: 30 }, (_, i) => `captures/${i}.bin`).sort());
    expect(setup.sandbox.uploads()).toHaveLength(30);
  });

  it('a Kubernetes Indexed Job (0-based JOB_COMPLETION_INDEX, LINKFACE_SHARD_COUNT) is the same split as --shard i/n', async () => {
    const auto = await runCli(['upload', '--dry-run', '--shard', 'auto', 'captures/'], { cwd: setup.dir, env: { JOB_COMPLETION_INDEX: '1', LINKFACE_SHARD_COUNT: '3' } });
    const given = await runCli(['upload', '--dry-run', '--shard', '2/3', 'captures/'], { cwd: setup.dir });
    expect(auto.code).toBe(0);
    expect(auto.stdout).toBe(given.stdout);
  });

  it('with no CI variables: exit 2, naming the variables it reads, nothing sent', async () => {
    const before = setup.sandbox.requests.length;
    const run = await runCli(['upload', '--shard', 'auto', 'captures/'], { cwd: setup.dir, env: setup.env });
    expect(run.code).toBe(2);
    expect(run.stderr).toMatch(/--shard auto found no CI shard variables/);
    for (const name of ['CI_NODE_INDEX', 'CIRCLE_NODE_INDEX', 'BUILDKITE_PARALLEL_JOB', 'JOB_COMPLETION_INDEX', 'LINKFACE_SHARD_COUNT']) expect(run.stderr).toContain(name);
    expect(setup.sandbox.requests.length).toBe(before);
  });
});
