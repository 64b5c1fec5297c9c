import { spawnSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import targets from '../../scripts/exe/targets.json' with { type: 'json' };
import { embeddedNodeVersions, readElf, readSeaBlob, SEA_DISABLE_WARNING, SEA_USE_CODE_CACHE } from './binaries.js';
import { describeRuns, RELEASE, readSums, ROOT } from './exe-suite.js';

/**
 * The Linux x64 single executable (`npm run build:exe`), built here because CI runs `npm test` on a fresh clone
 * (`dist/` is built by then), then run with an empty environment. The other targets: test/e2e/exe-targets.test.ts,
 * which runs when LINKFACE_EXE_TARGETS is set, on the release/ of `npm run build:exe -- --target …`: this file
 * then builds nothing (its build would replace that release/ while the other file reads it), and that file runs
 * the linux-x64 executable as this one does.
 */
const EXE = join(RELEASE, targets['linux-x64'].file);
const skip = process.platform !== 'linux' || process.arch !== 'x64' || Boolean(process.env.LINKFACE_EXE_TARGETS);

describe.skipIf(skip)('the single executable (linux-x64)', () => {
  beforeAll(() => {
    const built = spawnSync(process.execPath, [join(ROOT, 'scripts', 'build-exe.mjs')], { cwd: ROOT, encoding: 'utf8' });
    if (built.status !== 0) throw new Error(`npm run build:exe failed:\n${built.stdout}${built.stderr}`);
  }, 120_000);

  describeRuns('run natively', () => [EXE]);

  it(`carries Node.js ${targets['linux-x64'].version}, and a blob of the bundle with a code cache`, () => {
    const bytes = readFileSync(EXE);
    expect(embeddedNodeVersions(bytes)).toEqual([targets['linux-x64'].version]);
    const notes = readElf(bytes).notes.filter((note) => note.name === 'NODE_SEA_BLOB');
    expect(notes).toHaveLength(1);
    const blob = readSeaBlob(notes[0]?.desc ?? Buffer.alloc(0));
    expect(blob.flags).toBe(SEA_DISABLE_WARNING | SEA_USE_CODE_CACHE);
    expect(blob.code.toString('utf8')).toContain(readFileSync(join(ROOT, 'dist', 'cli', 'linkface.cjs'), 'utf8'));
    expect(blob.codeCache?.length).toBeGreaterThan(0);
  });

  it('has a SHA256SUMS that sha256sum -c accepts, covering the file built', () => {
    const digest = createHash('sha256').update(readFileSync(EXE)).digest('hex');
    expect(readSums()).toEqual(new Map([[targets['linux-x64'].file, digest]]));
    const check = spawnSync('sha256sum', ['-c', 'SHA256SUMS'], { cwd: RELEASE, encoding: 'utf8' });
    expect(check.stdout).toBe('linkface-linux-x64: OK\n');
    expect(check.status).toBe(0);
  });
});
