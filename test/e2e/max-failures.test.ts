/** `--max-failures`: a batch that fails the same way for every file stops spending calls on it. */
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { parseRecords, runCli, useSandbox } from './harness.js';

const setup = useSandbox('budget');
beforeAll(() => {
  mkdirSync(join(setup.dir, 'captures'));
  // Every file is answered WRONG_LIVENESS_DATA, as an SDK mismatch would make them.
  for (let i = 0; i < 20; i++) writeFileSync(join(setup.dir, 'captures', `${String(i).padStart(2, '0')}.bin`), `LINKFACE-SANDBOX-STATUS:WRONG_LIVENESS_DATA ${i}`);
});

describe('--max-failures', () => {
  it.each([
    ['a number', '3', 3],
    ['a share of the batch', '10%', 2],
  ])('as %s: once more inputs failed, nothing new starts; the rest are NOT_ATTEMPTED; exit 1', async (_name, given, limit) => {
    const run = await runCli(['upload', '-c', '2', '--max-failures', given, '--manifest', `m-${limit}.ndjson`, 'captures/'], { cwd: setup.dir, env: setup.env });
    expect(run.code).toBe(1);
    const records = parseRecords(readFileSync(join(setup.dir, `m-${limit}.ndjson`), 'utf8'));
    expect(records).toHaveLength(20);
    const failed = records.filter((r) => r.status === 'WRONG_LIVENESS_DATA');
    const notAttempted = records.filter((r) => r.status === 'NOT_ATTEMPTED');
    // The budget plus the one that spent it; uploads already in flight (at most -c 2) finish.
    expect(failed.length).toBeGreaterThan(limit);
    expect(failed.length).toBeLessThanOrEqual(limit + 1 + 2);
    expect(failed.length + notAttempted.length).toBe(20);
    expect(setup.sandbox.requests).toHaveLength(failed.length);
    expect(notAttempted[0]?.reason).toMatch(/failure budget is spent/);
    expect(run.stderr).toMatch(new RegExp(`\\d+ not attempted: the failure budget is spent \\(\\d+ failed, more than --max-failures ${given}\\)`));
  });

  it('a budget that was not spent changes nothing', async () => {
    const run = await runCli(['upload', '--max-failures', '100%', '--json', 'captures/'], { cwd: setup.dir, env: setup.env });
    expect(run.code).toBe(1);
    expect(parseRecords(run.stdout).filter((r) => r.status === 'WRONG_LIVENESS_DATA')).toHaveLength(20);
  });

  it('a value that is not a number or a share: exit 2, nothing sent', async () => {
    const run = await runCli(['upload', '--max-failures', 'lots', 'captures/'], { cwd: setup.dir, env: setup.env });
    expect(run.code).toBe(2);
    expect(run.stderr).toMatch(/--max-failures must be a number of inputs \(10\) or a share of the batch \(5%\), got 'lots'/);
    expect(setup.sandbox.requests).toHaveLength(0);
  });
});
