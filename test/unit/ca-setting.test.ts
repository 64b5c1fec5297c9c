/** The CA file is a setting like the others: from a flag, the environment or an rc file, with its source. */
import { mkdirSync, mkdtempSync, realpathSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { resolveSettings } from '../../src/config/index.js';

let home: string;
let project: string;
beforeAll(() => {
  // Its real path: project rc files are named by the real path of cwd, and the temporary folder is reached
  // through a symbolic link on macOS (/var is /private/var) and a short name on Windows (RUNNER~1).
  home = realpathSync.native(mkdtempSync(join(tmpdir(), 'linkface-ca-home-')));
  project = join(home, 'project');
  mkdirSync(project);
  writeFileSync(join(project, '.linkfacerc.json'), JSON.stringify({ caFile: 'certs/corp.pem' }));
});
afterAll(() => rmSync(home, { recursive: true, force: true }));

const resolve = (flags: { caFile?: string }, env: Record<string, string> = {}) => resolveSettings({ flags, env, cwd: project, homeDir: home });

describe('caFile', () => {
  it('from an rc file: relative to the file', async () => {
    const { settings } = await resolve({});
    expect(settings.caFile).toEqual({ value: join(project, 'certs/corp.pem'), source: { kind: 'file', name: join(project, '.linkfacerc.json'), key: 'caFile' } });
  });

  it('LINKFACE_CA_FILE wins over the rc file, --ca over both; relative to cwd, ~ is home', async () => {
    expect((await resolve({}, { LINKFACE_CA_FILE: '~/ca.pem' })).settings.caFile).toEqual({ value: join(home, 'ca.pem'), source: { kind: 'env', name: 'LINKFACE_CA_FILE' } });
    expect((await resolve({ caFile: 'flag.pem' }, { LINKFACE_CA_FILE: '~/ca.pem' })).settings.caFile).toEqual({ value: join(project, 'flag.pem'), source: { kind: 'flag', name: '--ca' } });
  });
});
