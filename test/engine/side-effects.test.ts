import { spawnSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';

const ROOT = fileURLToPath(new URL('../..', import.meta.url));

/**
 * package.json says `"sideEffects": false`: importing the library must change nothing in the importing process.
 * Checked in a fresh Node.js process against the built package: its globals, its process listeners, undici's
 * classes, its warnings and its output.
 */
describe('importing linkface-cli', () => {
  it('changes no global, no process listener and nothing of undici, and prints nothing', () => {
    const script = `
      const { createRequire } = require('node:module');
      const events = ['exit', 'uncaughtException', 'unhandledRejection', 'warning', 'SIGINT', 'SIGTERM', 'SIGHUP'];
      const before = { globals: Object.getOwnPropertyNames(globalThis).sort(), listeners: events.map((e) => process.listenerCount(e)) };
      import(${JSON.stringify(`${ROOT}/dist/index.js`)}).then((library) => {
        const undici = createRequire(${JSON.stringify(`${ROOT}/package.json`)})('undici/lib/dispatcher/dispatcher.js');
        const after = { globals: Object.getOwnPropertyNames(globalThis).sort(), listeners: events.map((e) => process.listenerCount(e)) };
        process.stdout.write(JSON.stringify({ exports: Object.keys(library).length, before, after, undiciRequest: typeof undici.prototype.request, undiciLoaded: Object.keys(require.cache).some((path) => path.endsWith('agent.js') && path.includes('undici')) }));
      });`;
    const run = spawnSync(process.execPath, ['-e', script], { cwd: ROOT, encoding: 'utf8' });
    expect(run.stderr).toBe('');
    expect(run.status).toBe(0);
    const result = JSON.parse(run.stdout) as { exports: number; before: unknown; after: unknown; undiciRequest: string; undiciLoaded: boolean };
    expect(result.exports).toBeGreaterThan(10);
    expect(result.after).toEqual(result.before);
    // undici is loaded by the import (so the check means something), and left as it was.
    expect(result.undiciLoaded).toBe(true);
    expect(result.undiciRequest).toBe('undefined');
  });
});
