import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { runCli } from './harness.js';

/** Asks the generated bash completion what it offers after `words` (the last one being typed). */
function bashComplete(script: string, words: string[]): string[] {
  const dir = mkdtempSync(join(tmpdir(), 'linkface-completion-'));
  try {
    const file = join(dir, 'linkface.bash');
    writeFileSync(file, script);
    // Sourced by a relative name from its own folder: a Windows path (C:\Users\…) would be read by bash as
    // escapes, and a path with spaces would need quoting.
    const program = `source ./linkface.bash; COMP_WORDS=(${words.map((w) => `'${w}'`).join(' ')}); COMP_CWORD=${words.length - 1}; _linkface; printf '%s\\n' "\${COMPREPLY[@]}"`;
    const run = spawnSync('bash', ['-c', program], { cwd: dir, encoding: 'utf8' });
    expect(run.status, run.stderr).toBe(0);
    return run.stdout.split('\n').filter(Boolean);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

describe('linkface completion', () => {
  it('bash: completes commands, flags, flag values and subcommands', async () => {
    const run = await runCli(['completion', 'bash']);
    expect(run.code).toBe(0);
    expect(bashComplete(run.stdout, ['linkface', ''])).toEqual(expect.arrayContaining(['upload', 'explain', 'config', 'sandbox', 'completion']));
    expect(bashComplete(run.stdout, ['linkface', 'upload', '--re'])).toEqual(['--retries', '--resume']);
    expect(bashComplete(run.stdout, ['linkface', 'upload', '--lang', ''])).toEqual(['en', 'zh']);
    expect(bashComplete(run.stdout, ['linkface', 'config', 's'])).toEqual(['show']);
    expect(bashComplete(run.stdout, ['linkface', 'config', 'show', '--pro'])).toEqual(['--profile']);
    expect(bashComplete(run.stdout, ['linkface', 'completion', ''])).toEqual(expect.arrayContaining(['bash', 'zsh', 'fish']));
    expect(bashComplete(run.stdout, ['linkface', 'sandbox', '--fail'])).toEqual(['--fail-rate']);
  });

  it.each(['zsh', 'fish'])('%s: names every command and upload flag', async (shell) => {
    const run = await runCli(['completion', shell]);
    expect(run.code).toBe(0);
    for (const word of ['upload', 'explain', 'config', 'sandbox', 'completion', 'manifest', 'resume', 'dry-run', 'shard', 'api-id']) {
      expect(run.stdout).toContain(word);
    }
  });

  it('zsh script is valid zsh when zsh is installed', async () => {
    const hasZsh = spawnSync('zsh', ['--version']).status === 0;
    const run = await runCli(['completion', 'zsh']);
    if (hasZsh) expect(spawnSync('zsh', ['-n', '-c', run.stdout]).status).toBe(0);
    else expect(run.stdout).toMatch(/^#compdef linkface/);
  });

  it('refuses an unknown shell with exit 2', async () => {
    const run = await runCli(['completion', 'tcsh']);
    expect(run.code).toBe(2);
    expect(run.stderr).toMatch(/bash, zsh, fish/);
  });
});
