/** Commands that do not talk to the endpoint load no HTTP code (Node's own http modules, undici's pool). */
import { execFile } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { BIN, FIXTURES } from './harness.js';

let dir: string;
let hook: string;
beforeAll(() => {
  dir = mkdtempSync(join(tmpdir(), 'linkface-lazy-'));
  hook = join(dir, 'hook.cjs');
  // Node's own list of the built-in modules this process loaded, printed as it exits.
  writeFileSync(hook, "process.on('exit', () => process.stderr.write(`\\nLOADED ${JSON.stringify(process.moduleLoadList)}\\n`));\n");
});
afterAll(() => rmSync(dir, { recursive: true, force: true }));

async function loaded(args: string[]): Promise<string[]> {
  const run = await promisify(execFile)(process.execPath, ['--require', hook, BIN, ...args], { cwd: dir, env: { PATH: process.env.PATH, HOME: dir, NO_COLOR: '1' } });
  const line = run.stderr.split('\n').find((l) => l.startsWith('LOADED '));
  return JSON.parse(line?.slice('LOADED '.length) ?? '[]') as string[];
}

const HTTP = /^NativeModule (http|https|http2|_http_\w+)$/;

describe('commands load only what they use', () => {
  it.each([[['config', 'show']], [['explain', 'UNAUTHORIZED']], [['explain']]])('linkface %j loads no HTTP code', async (args) => {
    const modules = await loaded(args);
    expect(modules.length).toBeGreaterThan(10);
    expect(modules.filter((m) => HTTP.test(m))).toEqual([]);
  });

  it('an upload does load it (the check above can fail)', async () => {
    const modules = await loaded(['upload', '--sandbox', '--quiet', join(FIXTURES, 'liveness/alice.bin')]);
    expect(modules.filter((m) => HTTP.test(m))).toContain('NativeModule http');
  });
});
