import { createHash } from 'node:crypto';

/**
 * Readers for what the tests of the single executables check in them (test/e2e/exe.test.ts, exe-targets.test.ts):
 * the notes of Linux ELF files, Windows PE32+ files, thin 64-bit Mach-O files with their code signature, and the
 * SEA blob Node.js injects into each. Written from the formats' specifications (the ELF gABI, Microsoft's PE/COFF
 * specification, Apple's <mach-o/loader.h> and <cs_blobs.h>, Node's src/node_sea.cc), apart from the build's own
 * code (scripts/exe/), so that a mistake there is not repeated here.
 * Every reader throws when a structure is out of bounds or has the wrong magic number.
 */

function check(condition: boolean, message: string): asserts condition {
  if (!condition) throw new Error(message);
}

function slice(bytes: Buffer, offset: number, size: number, what: string): Buffer {
  check(Number.isSafeInteger(offset) && offset >= 0 && size >= 0 && offset + size <= bytes.length, `${what} lies outside the file`);
  return bytes.subarray(offset, offset + size);
}

// ---------------------------------------------------------------------------------------------------------------
// ELF (Linux), 64-bit, little-endian

export const EM_X86_64 = 62;
export const EM_AARCH64 = 183;
const SHT_NOTE = 7;

export interface ElfNote {
  name: string;
  type: number;
  desc: Buffer;
}

/** The machine of a 64-bit little-endian ELF file, and the notes of its SHT_NOTE sections. */
export function readElf(bytes: Buffer): { machine: number; notes: ElfNote[] } {
  check(bytes.length >= 64 && bytes.toString('latin1', 0, 4) === '\x7fELF', 'not an ELF file');
  check(bytes[4] === 2 && bytes[5] === 1, 'not a 64-bit little-endian ELF file');
  const machine = bytes.readUInt16LE(18);
  const sectionsAt = Number(bytes.readBigUInt64LE(0x28));
  const entrySize = bytes.readUInt16LE(0x3a);
  const count = bytes.readUInt16LE(0x3c);
  check(entrySize === 64, 'unexpected section header size');
  const table = slice(bytes, sectionsAt, count * entrySize, 'section header table');
  const notes: ElfNote[] = [];
  for (let index = 0; index < count; index++) {
    const header = index * entrySize;
    if (table.readUInt32LE(header + 4) !== SHT_NOTE) continue;
    const section = slice(bytes, Number(table.readBigUInt64LE(header + 24)), Number(table.readBigUInt64LE(header + 32)), `note section ${index}`);
    // Each note: namesz, descsz, type (u32 each), then the name and the descriptor, each padded to 4 bytes.
    for (let at = 0; at + 12 <= section.length; ) {
      const nameSize = section.readUInt32LE(at);
      const descSize = section.readUInt32LE(at + 4);
      const type = section.readUInt32LE(at + 8);
      const nameAt = at + 12;
      const descAt = nameAt + Math.ceil(nameSize / 4) * 4;
      notes.push({
        name: slice(section, nameAt, nameSize, 'note name').toString('latin1').replace(/\0+$/, ''),
        type,
        desc: slice(section, descAt, descSize, 'note descriptor'),
      });
      at = descAt + Math.ceil(descSize / 4) * 4;
    }
  }
  return { machine, notes };
}

// ---------------------------------------------------------------------------------------------------------------
// PE32+ (Windows)

export interface PeSection {
  name: string;
  virtualAddress: number;
  virtualSize: number;
  rawOffset: number;
  rawSize: number;
}

export interface PeFile {
  machine: number;
  sections: PeSection[];
  /** Data directories by index: 2 is the resource table, 4 the certificate table (a file offset, not an RVA). */
  directories: { address: number; size: number }[];
  checksumOffset: number;
  checksum: number;
  /** Where the last section's raw data ends: anything after it is an overlay (a signature lives there). */
  endOfSections: number;
}

const IMAGE_FILE_MACHINE_AMD64 = 0x8664;

export function readPe(bytes: Buffer): PeFile {
  check(bytes.toString('latin1', 0, 2) === 'MZ', 'no DOS header (MZ)');
  const peOffset = bytes.readUInt32LE(0x3c);
  check(slice(bytes, peOffset, 4, 'PE signature').toString('latin1') === 'PE\0\0', 'no PE signature');
  const coff = peOffset + 4;
  const machine = bytes.readUInt16LE(coff);
  const sectionCount = bytes.readUInt16LE(coff + 2);
  const optionalSize = bytes.readUInt16LE(coff + 16);
  const optional = coff + 20;
  check(bytes.readUInt16LE(optional) === 0x20b, 'not a PE32+ optional header');
  const directoryCount = bytes.readUInt32LE(optional + 108);
  check(112 + directoryCount * 8 <= optionalSize, 'data directories overflow the optional header');
  const directories = Array.from({ length: directoryCount }, (_, index) => ({
    address: bytes.readUInt32LE(optional + 112 + index * 8),
    size: bytes.readUInt32LE(optional + 116 + index * 8),
  }));
  const table = slice(bytes, optional + optionalSize, sectionCount * 40, 'section table');
  const sections = Array.from({ length: sectionCount }, (_, index) => {
    const at = index * 40;
    return {
      name: table.toString('latin1', at, at + 8).replace(/\0+$/, ''),
      virtualSize: table.readUInt32LE(at + 8),
      virtualAddress: table.readUInt32LE(at + 12),
      rawSize: table.readUInt32LE(at + 16),
      rawOffset: table.readUInt32LE(at + 20),
    };
  });
  for (const section of sections) slice(bytes, section.rawOffset, section.rawSize, `section ${section.name}`);
  const endOfSections = Math.max(...sections.map((section) => section.rawOffset + section.rawSize));
  return {
    machine,
    sections,
    directories,
    checksumOffset: optional + 64,
    checksum: bytes.readUInt32LE(optional + 64),
    endOfSections,
  };
}

export const isAmd64 = (pe: PeFile): boolean => pe.machine === IMAGE_FILE_MACHINE_AMD64;

/** The file offset of a relative virtual address, through the section that maps it. */
function rvaToOffset(pe: PeFile, rva: number, size: number): number {
  const section = pe.sections.find((candidate) => rva >= candidate.virtualAddress && rva + size <= candidate.virtualAddress + candidate.rawSize);
  check(section !== undefined, `RVA 0x${rva.toString(16)} (+${size}) is in no section's raw data`);
  return section.rawOffset + (rva - section.virtualAddress);
}

export interface PeResource {
  type: number | string;
  name: number | string;
  language: number | string;
  data: Buffer;
}

/** Every resource of the file's resource table (type → name → language → data), as the loader finds them. */
export function peResources(bytes: Buffer, pe: PeFile): PeResource[] {
  const directory = pe.directories[2];
  check(directory !== undefined && directory.size > 0, 'no resource table');
  const base = rvaToOffset(pe, directory.address, 16);
  const resources: PeResource[] = [];
  const label = (value: number): number | string => {
    if ((value & 0x80000000) === 0) return value;
    const at = base + (value & 0x7fffffff);
    const length = bytes.readUInt16LE(at);
    return slice(bytes, at + 2, length * 2, 'resource name').toString('utf16le');
  };
  const walk = (offset: number, path: (number | string)[], depth: number): void => {
    check(depth < 3, 'resource tree deeper than type/name/language');
    const at = base + offset;
    const count = bytes.readUInt16LE(at + 12) + bytes.readUInt16LE(at + 14);
    for (let index = 0; index < count; index++) {
      const entry = at + 16 + index * 8;
      const id = label(bytes.readUInt32LE(entry));
      const target = bytes.readUInt32LE(entry + 4);
      if ((target & 0x80000000) !== 0) {
        walk(target & 0x7fffffff, [...path, id], depth + 1);
      } else {
        check(depth === 2, 'resource data above the language level');
        const dataEntry = base + target;
        const rva = bytes.readUInt32LE(dataEntry);
        const size = bytes.readUInt32LE(dataEntry + 4);
        const [type, name] = path as [number | string, number | string];
        resources.push({ type, name, language: id, data: slice(bytes, rvaToOffset(pe, rva, size), size, 'resource data') });
      }
    }
  };
  walk(0, [], 0);
  return resources;
}

export const RT_RCDATA = 10;

/** The image checksum as Windows' CheckSumMappedFile computes it (the checksum field counted as zero). */
export function peChecksum(bytes: Buffer, pe: PeFile): number {
  let sum = 0;
  for (let at = 0; at + 1 < bytes.length; at += 2) {
    if (at === pe.checksumOffset || at === pe.checksumOffset + 2) continue;
    sum = (sum & 0xffff) + (sum >>> 16) + bytes.readUInt16LE(at);
  }
  if (bytes.length % 2 === 1) sum += bytes[bytes.length - 1] ?? 0;
  sum = (sum & 0xffff) + (sum >>> 16);
  sum = (sum & 0xffff) + (sum >>> 16);
  return (sum + bytes.length) >>> 0;
}

// ---------------------------------------------------------------------------------------------------------------
// Mach-O (macOS), thin, 64-bit, little-endian

export const CPU_TYPE_X86_64 = 0x01000007;
export const CPU_TYPE_ARM64 = 0x0100000c;
const LC_SEGMENT_64 = 0x19;
const LC_CODE_SIGNATURE = 0x1d;

export interface MachOSection {
  name: string;
  offset: number;
  size: number;
}

export interface MachOSegment {
  name: string;
  vmaddr: bigint;
  vmsize: bigint;
  fileoff: number;
  filesize: number;
  sections: MachOSection[];
}

export interface MachOFile {
  cpuType: number;
  fileType: number;
  segments: MachOSegment[];
  /** The LC_CODE_SIGNATURE command, and whether it is the last load command. */
  codeSignature?: { dataoff: number; datasize: number; last: boolean };
}

export function readMachO(bytes: Buffer): MachOFile {
  check(bytes.length >= 32 && bytes.readUInt32LE(0) === 0xfeedfacf, 'not a thin 64-bit little-endian Mach-O file');
  const cpuType = bytes.readUInt32LE(4);
  const fileType = bytes.readUInt32LE(12);
  const ncmds = bytes.readUInt32LE(16);
  const sizeofcmds = bytes.readUInt32LE(20);
  const segments: MachOSegment[] = [];
  let codeSignature: MachOFile['codeSignature'];
  let at = 32;
  for (let index = 0; index < ncmds; index++) {
    const cmd = bytes.readUInt32LE(at);
    const cmdsize = bytes.readUInt32LE(at + 4);
    check(cmdsize >= 8 && at + cmdsize <= 32 + sizeofcmds, `load command ${index} overflows sizeofcmds`);
    if (cmd === LC_SEGMENT_64) {
      const nsects = bytes.readUInt32LE(at + 64);
      check(72 + nsects * 80 === cmdsize, `segment command ${index} has the wrong size`);
      segments.push({
        name: bytes.toString('latin1', at + 8, at + 24).replace(/\0+$/, ''),
        vmaddr: bytes.readBigUInt64LE(at + 24),
        vmsize: bytes.readBigUInt64LE(at + 32),
        fileoff: Number(bytes.readBigUInt64LE(at + 40)),
        filesize: Number(bytes.readBigUInt64LE(at + 48)),
        sections: Array.from({ length: nsects }, (_, section) => {
          const header = at + 72 + section * 80;
          return {
            name: bytes.toString('latin1', header, header + 16).replace(/\0+$/, ''),
            size: Number(bytes.readBigUInt64LE(header + 40)),
            offset: bytes.readUInt32LE(header + 48),
          };
        }),
      });
    } else if (cmd === LC_CODE_SIGNATURE) {
      codeSignature = { dataoff: bytes.readUInt32LE(at + 8), datasize: bytes.readUInt32LE(at + 12), last: index === ncmds - 1 };
    }
    at += cmdsize;
  }
  for (const segment of segments) slice(bytes, segment.fileoff, segment.filesize, `segment ${segment.name}`);
  return codeSignature ? { cpuType, fileType, segments, codeSignature } : { cpuType, fileType, segments };
}

export function machOSection(bytes: Buffer, macho: MachOFile, segmentName: string, sectionName: string): Buffer | undefined {
  const section = macho.segments.find((segment) => segment.name === segmentName)?.sections.find((candidate) => candidate.name === sectionName);
  return section && slice(bytes, section.offset, section.size, `${segmentName},${sectionName}`);
}

export const CS_ADHOC = 0x2;
export const CS_LINKER_SIGNED = 0x20000;
const CSMAGIC_EMBEDDED_SIGNATURE = 0xfade0cc0;
const CSMAGIC_CODEDIRECTORY = 0xfade0c02;
const CS_HASHTYPE_SHA256 = 2;

export interface CodeDirectory {
  version: number;
  flags: number;
  identifier: string;
  codeLimit: number;
  pageSize: number;
  hashType: number;
  hashSize: number;
  specialSlots: number;
  hashes: Buffer[];
  execSegBase?: bigint;
  execSegLimit?: bigint;
  execSegFlags?: bigint;
}

/** The code directory (slot 0) of the embedded signature at `dataoff`; every field big-endian. */
export function readCodeDirectory(bytes: Buffer, macho: MachOFile): CodeDirectory {
  const signature = macho.codeSignature;
  check(signature !== undefined, 'no LC_CODE_SIGNATURE');
  const blob = slice(bytes, signature.dataoff, signature.datasize, 'code signature');
  check(blob.readUInt32BE(0) === CSMAGIC_EMBEDDED_SIGNATURE, 'no embedded-signature SuperBlob');
  check(blob.readUInt32BE(4) <= blob.length, 'SuperBlob longer than LC_CODE_SIGNATURE says');
  const count = blob.readUInt32BE(8);
  let directoryOffset: number | undefined;
  for (let index = 0; index < count; index++) {
    if (blob.readUInt32BE(12 + index * 8) === 0) directoryOffset = blob.readUInt32BE(16 + index * 8);
  }
  check(directoryOffset !== undefined, 'no code directory in the SuperBlob');
  const cd = blob.subarray(directoryOffset);
  check(cd.readUInt32BE(0) === CSMAGIC_CODEDIRECTORY, 'code directory has the wrong magic');
  const length = cd.readUInt32BE(4);
  check(directoryOffset + length <= blob.length, 'code directory overflows the signature');
  const version = cd.readUInt32BE(8);
  const hashOffset = cd.readUInt32BE(16);
  const identOffset = cd.readUInt32BE(20);
  const nCodeSlots = cd.readUInt32BE(28);
  const hashSize = cd.readUInt8(36);
  const identifierEnd = cd.indexOf(0, identOffset);
  check(identifierEnd > identOffset && identifierEnd < length, 'identifier is not a terminated string');
  check(hashOffset + nCodeSlots * hashSize <= length, 'code hashes overflow the code directory');
  const directory: CodeDirectory = {
    version,
    flags: cd.readUInt32BE(12),
    identifier: cd.toString('utf8', identOffset, identifierEnd),
    specialSlots: cd.readUInt32BE(24),
    codeLimit: cd.readUInt32BE(32),
    hashSize,
    hashType: cd.readUInt8(37),
    pageSize: 2 ** cd.readUInt8(39),
    hashes: Array.from({ length: nCodeSlots }, (_, slot) => cd.subarray(hashOffset + slot * hashSize, hashOffset + (slot + 1) * hashSize)),
  };
  if (version >= 0x20400) {
    directory.execSegBase = cd.readBigUInt64BE(64);
    directory.execSegLimit = cd.readBigUInt64BE(72);
    directory.execSegFlags = cd.readBigUInt64BE(80);
  }
  return directory;
}

/**
 * The pages whose SHA-256 differs from the code directory's hash for it: the file is cut into pages of
 * `pageSize` up to `codeLimit` (the last one shorter), each hashed, as the kernel does when it maps them.
 * Also lists a slot count that does not match the pages.
 */
export function badPages(bytes: Buffer, directory: CodeDirectory): number[] {
  check(directory.hashType === CS_HASHTYPE_SHA256 && directory.hashSize === 32, 'not SHA-256 page hashes');
  const pages = Math.ceil(directory.codeLimit / directory.pageSize);
  const bad: number[] = [];
  for (let page = 0; page < Math.max(pages, directory.hashes.length); page++) {
    const start = page * directory.pageSize;
    const expected = directory.hashes[page];
    const actual = page < pages ? createHash('sha256').update(bytes.subarray(start, Math.min(start + directory.pageSize, directory.codeLimit))).digest() : undefined;
    if (!expected || !actual || !actual.equals(expected)) bad.push(page);
  }
  return bad;
}

// ---------------------------------------------------------------------------------------------------------------
// The SEA blob (Node.js 26: src/node_sea.cc, SeaSerializer)

export const SEA_DISABLE_WARNING = 1;
// 2: a startup snapshot instead of a script (not used by linkface: undici cannot be put in one).
export const SEA_USE_CODE_CACHE = 4;
export const SEA_INCLUDE_ASSETS = 8;
export const SEA_INCLUDE_EXEC_ARGV = 16;

export interface SeaBlob {
  flags: number;
  execArgvExtension: number;
  mainFormat: number;
  codePath: string;
  code: Buffer;
  codeCache?: Buffer;
}

/**
 * magic 0x0143da20, flags (u32), exec-argv extension (u8), main format (u8), then length-prefixed (u64) strings:
 * the main script's path, the script, the code cache when flagged. Assets and exec arguments are not read: the
 * tests expect neither, and the blob must end where the read ends.
 */
export function readSeaBlob(blob: Buffer): SeaBlob {
  check(blob.length >= 10 && blob.readUInt32LE(0) === 0x0143da20, 'not a SEA blob (magic)');
  const flags = blob.readUInt32LE(4);
  let at = 10;
  const next = (what: string): Buffer => {
    const size = Number(blob.readBigUInt64LE(at));
    const value = slice(blob, at + 8, size, what);
    at += 8 + size;
    return value;
  };
  const result: SeaBlob = {
    flags,
    execArgvExtension: blob.readUInt8(8),
    mainFormat: blob.readUInt8(9),
    codePath: next('main script path').toString('utf8'),
    code: next('main script'),
  };
  if ((flags & SEA_USE_CODE_CACHE) !== 0) result.codeCache = next('code cache');
  check((flags & (SEA_INCLUDE_ASSETS | SEA_INCLUDE_EXEC_ARGV)) !== 0 || at === blob.length, `${blob.length - at} bytes after the blob's last field`);
  return result;
}

/** The Node.js versions named by the headers URL every official build embeds (process.release.headersUrl). */
export function embeddedNodeVersions(bytes: Buffer): string[] {
  const prefix = Buffer.from('/download/release/v');
  const versions = new Set<string>();
  for (let at = bytes.indexOf(prefix); at !== -1; at = bytes.indexOf(prefix, at + 1)) {
    const text = bytes.toString('latin1', at, at + 80);
    const match = /^\/download\/release\/v(\d+\.\d+\.\d+)\/node-v\1-headers\.tar\.gz/.exec(text);
    if (match?.[1]) versions.add(match[1]);
  }
  return [...versions];
}
