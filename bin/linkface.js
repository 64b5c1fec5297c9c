#!/usr/bin/env node
'use strict';
/**
 * The `linkface` command: one CommonJS bundle of the whole command line (dist/cli/linkface.cjs, made by
 * scripts/build.mjs), loaded with a plain `require`. Each command's code sits in the bundle behind its own
 * initializer and runs only when that command does.
 *
 * Before it, Node's own compile cache (Node 22.1 and newer; Node 20 has none and skips this), called as tsc and
 * eslint call it: V8's code for the bundle is kept on disk and reused by the next starts, checked by Node against
 * the file and this very Node.js. It goes in linkface's cache folder, `$XDG_CACHE_HOME/linkface/compile-cache`
 * (`~/.cache/…`; `%LOCALAPPDATA%\linkface\compile-cache` on Windows), not Node's default under the temp folder:
 * on a machine shared by several accounts, that one belongs to whichever account made it first, which can then
 * choose the code the others run (Node does not check who owns it). Some 150 KB per Node.js version.
 * NODE_COMPILE_CACHE=<folder> puts it elsewhere (Node enables it from there before this runs, and keeps it
 * there), NODE_DISABLE_COMPILE_CACHE=1 turns it off. It never stops the command: when it cannot be used, the
 * bundle is compiled as usual. Measured on Node 26: `--version` 1.24× and a one-file upload 1.17× as long
 * without it (README, "Start-up").
 */
const { enableCompileCache } = require('node:module');

if (typeof enableCompileCache === 'function') {
  try {
    const { homedir } = require('node:os');
    const { isAbsolute, join } = require('node:path');
    const { XDG_CACHE_HOME: xdg, LOCALAPPDATA: local } = process.env;
    const base = xdg && isAbsolute(xdg) ? xdg : process.platform === 'win32' && local ? local : join(homedir(), '.cache');
    enableCompileCache(join(base, 'linkface', 'compile-cache'));
  } catch {
    // No home folder to be found: compiled as usual.
  }
}

const { main } = require('../dist/cli/linkface.cjs');

main(process.argv).then((code) => {
  process.exitCode = code;
});
