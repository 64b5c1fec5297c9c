/**
 * The rules that differ between Linux, macOS and Windows, checked here on Linux with the platform given, so
 * that they are tested where the suite always runs and not only on runners of those systems.
 */
import { join, resolve } from 'node:path';
import { describe, expect, it } from 'vitest';
import { resolveUserPath, userHome } from '../../src/config/paths.js';
import { caseInsensitiveNames, decodeText, folderSpelling, isDesktopClutter, portablePattern } from '../../src/inputs/portable.js';
import { inShard, shardKey } from '../../src/inputs/shard.js';
import { shownName } from '../../src/untrusted.js';

describe('shards split the same way on every system', () => {
  const names = Array.from({ length: 300 }, (_, i) => `captures/day${i % 7}/café-${i}.bin`);

  it('a Windows path and its POSIX spelling have one key; so do NFD (macOS) and NFC names', () => {
    expect(shardKey('captures\\day1\\a.bin', 'win32')).toBe(shardKey('captures/day1/a.bin', 'linux'));
    expect(shardKey('café.bin'.normalize('NFD'), 'darwin')).toBe(shardKey('café.bin'.normalize('NFC'), 'linux'));
    // Elsewhere a backslash is part of a name, not a separator.
    expect(shardKey('a\\b.bin', 'linux')).toBe('a\\b.bin');
  });

  it('every input lands in the same one of n shards on Linux, macOS and Windows', () => {
    for (const count of [2, 3, 7]) {
      for (const name of names) {
        const on = (platform: NodeJS.Platform, input: string) =>
          Array.from({ length: count }, (_, i) => i + 1).filter((index) => inShard(input, { index, count }, platform));
        const linux = on('linux', name);
        expect(linux).toHaveLength(1);
        expect(on('win32', name.replaceAll('/', '\\'))).toEqual(linux);
        expect(on('darwin', name.normalize('NFD'))).toEqual(linux);
      }
    }
  });
});

describe('names in output', () => {
  it('keep their backslashes on Windows, where they are the separator', () => {
    expect(shownName('C:\\captures\\a.bin', 'win32')).toBe('C:\\captures\\a.bin');
    expect(shownName('a\\b.bin', 'linux')).toBe('a\\\\b.bin');
  });

  it('never carry control characters, on any system', () => {
    for (const platform of ['win32', 'linux', 'darwin'] as const) expect(shownName('a\nb\u001b.bin', platform)).toBe('a\\nb\\x1b.bin');
  });
});

describe('patterns', () => {
  it('read `\\` as the separator on Windows, as an escape elsewhere', () => {
    expect(portablePattern('captures\\*.bin', 'win32')).toBe('captures/*.bin');
    expect(portablePattern('raw\\**\\*.bin', 'win32')).toBe('raw/**/*.bin');
    expect(portablePattern('literal\\*star.bin', 'linux')).toBe('literal\\*star.bin');
  });

  it('match names without regard to case on Windows and macOS', () => {
    expect(caseInsensitiveNames('win32')).toBe(true);
    expect(caseInsensitiveNames('darwin')).toBe(true);
    expect(caseInsensitiveNames('linux')).toBe(false);
  });
});

describe('list files in the encodings Windows tools write', () => {
  const list = 'a.bin\r\nsub\\b.bin\r\n';
  it.each([
    ['UTF-16LE with its byte-order mark (PowerShell 5.1 `>`)', Buffer.concat([Buffer.from([0xff, 0xfe]), Buffer.from(list, 'utf16le')])],
    ['UTF-16BE with its byte-order mark', Buffer.concat([Buffer.from([0xfe, 0xff]), Buffer.from(list, 'utf16le').swap16()])],
    ['UTF-8 with a byte-order mark (Notepad)', Buffer.concat([Buffer.from([0xef, 0xbb, 0xbf]), Buffer.from(list)])],
    ['UTF-8', Buffer.from(list)],
  ])('%s', (_name, bytes) => {
    expect(decodeText(bytes)).toBe(list);
  });
});

describe('files found in a folder, spelt after it', () => {
  const spelt = (directory: string, platform: NodeJS.Platform, file = 'sub/a.bin') => {
    const { folder, separator } = folderSpelling(directory, platform);
    return folder + file.replaceAll('/', separator);
  };

  it.each<[NodeJS.Platform, string, string]>([
    ['linux', 'captures', 'captures/sub/a.bin'],
    ['linux', 'captures/', 'captures/sub/a.bin'],
    ['linux', './captures', 'captures/sub/a.bin'],
    ['linux', 'captures/x/..', 'captures/sub/a.bin'],
    ['linux', '.', 'sub/a.bin'],
    ['linux', '/', '/sub/a.bin'],
    ['darwin', '..', '../sub/a.bin'],
    ['darwin', 'C:', 'C:/sub/a.bin'],
    ['win32', 'captures', 'captures/sub/a.bin'],
    ['win32', 'captures\\', 'captures\\sub\\a.bin'],
    ['win32', 'C:/captures', 'C:/captures/sub/a.bin'],
    ['win32', 'C:\\captures', 'C:\\captures\\sub\\a.bin'],
    // A drive's current folder, not its root (C:/sub/a.bin).
    ['win32', 'C:', 'C:sub\\a.bin'],
    ['win32', 'c:captures', 'c:captures\\sub\\a.bin'],
  ])('on %s: %s', (platform, directory, expected) => {
    expect(spelt(directory, platform)).toBe(expected);
  });
});

describe('desktop clutter in folders', () => {
  it.each(['Thumbs.db', 'thumbs.db', 'desktop.ini', 'Desktop.ini', 'Icon\r'])('%j is never uploaded', (name) => {
    expect(isDesktopClutter(name)).toBe(true);
  });
  it.each(['a.bin', 'Icon', 'thumbs.db.bin'])('%j is', (name) => {
    expect(isDesktopClutter(name)).toBe(false);
  });
});

describe('the home folder and ~ on Windows', () => {
  const fallback = () => 'C:\\Users\\profile';
  it('takes HOME when it is set (Git Bash, MSYS, tests), in its /c/… form too; else USERPROFILE (Node)', () => {
    expect(userHome({ HOME: '/c/Users/ann' }, 'win32', fallback)).toBe('C:\\Users\\ann');
    expect(userHome({ HOME: 'D:\\home\\ann' }, 'win32', fallback)).toBe('D:\\home\\ann');
    expect(userHome({}, 'win32', fallback)).toBe('C:\\Users\\profile');
    expect(userHome({ HOME: '/home/ann' }, 'linux', () => '/home/ann')).toBe('/home/ann');
  });

  it('expands ~\\ on Windows only', () => {
    // Paths built with this system's own join and resolve: on a Windows runner /home/ann is \home\ann.
    expect(resolveUserPath('~\\secret', '/work', '/home/ann', 'win32').startsWith(join('/home/ann'))).toBe(true);
    expect(resolveUserPath('~\\secret', '/work', '/home/ann', 'linux')).toBe(resolve('/work', '~\\secret'));
  });
});

describe('locked files', () => {
  it('are told apart from unreadable ones where the system says which', async () => {
    const { describeFsError } = await import('../../src/inputs/check.js');
    expect(describeFsError({ code: 'EBUSY' }, 'win32')).toMatch(/locked by another program/);
    expect(describeFsError({ code: 'EPERM' }, 'win32')).toMatch(/locked by another program/);
    expect(describeFsError({ code: 'EPERM' }, 'linux')).toBe('permission denied: the file is not readable by this user');
  });
});
