import { describe, expect, it } from 'vitest';
import { commandsFor } from '../../src/cli/main.js';

const ALL = ['upload', 'watch', 'explain', 'config', 'doctor', 'sandbox', 'completion'];

describe('which commands the program defines for the arguments (commandsFor)', () => {
  it.each([
    [['upload', 'a.bin', '--json'], ['upload']],
    [['--json', 'upload', 'a.bin'], ['upload']],
    [['config', 'show'], ['config']],
    [['sandbox', '--port', '0'], ['sandbox']],
    [['upload', '--help'], ['upload']],
    [['--help', 'doctor'], ['doctor']],
    [['--', 'explain'], ['explain']],
  ])('%j: only the command being run', (args, expected) => {
    expect(commandsFor(args)).toEqual(expected);
  });

  it.each([[['--version']], [['-V']], [['--version', '--help']]])('%j: none, the version is the root\'s', (args) => {
    expect(commandsFor(args)).toEqual([]);
  });

  it.each([
    [[]],
    [['--help']],
    [['-h']],
    [['help']],
    [['help', 'upload']],
    [['completion', 'bash']],
    [['uplaod', 'a.bin']],
    [['constructor']],
    [['--versio']],
  ])('%j: every command, in the order help lists them', (args) => {
    expect(commandsFor(args)).toEqual(ALL);
  });
});
