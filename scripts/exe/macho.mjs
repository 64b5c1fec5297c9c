/**
 * An ad-hoc code signature for a macOS executable, written here because Debian has no `codesign`, `ldid` or
 * `rcodesign`. macOS on Apple silicon refuses to run a binary without a valid signature, and injecting the SEA
 * blob (a new `NODE_SEA` segment) drops the one Node.js shipped with.
 *
 * What is written is what Apple's linker (and LLVM's: lld, llvm-objcopy) writes for the binaries it links, an
 * ad-hoc "linker-signed" signature, in the layout of Apple's `cs_blobs.h`:
 *
 *   LC_CODE_SIGNATURE (a new load command, in the room left after the others) → at the end of __LINKEDIT:
 *     SuperBlob (CSMAGIC_EMBEDDED_SIGNATURE, 1 blob)
 *       CodeDirectory (version 0x20400, flags CS_ADHOC | CS_LINKER_SIGNED, SHA-256, 4 KiB pages,
 *                      execSeg = __TEXT, CS_EXECSEG_MAIN_BINARY), its identifier, then one SHA-256 per page
 *                      of the file up to the signature (codeLimit).
 *
 * Every multi-byte field of the signature is big-endian; the Mach-O headers are little-endian (x86_64, arm64).
 * For the same file and identifier, the bytes are those `llvm-objcopy` (LLVM 14) writes for a file that has an
 * LC_CODE_SIGNATURE command: test/e2e/exe-targets.test.ts compares them on the executables built.
 */

import { createHash } from 'node:crypto';

const MH_MAGIC_64 = 0xfeedfacf;
const MH_EXECUTE = 0x2;
const LC_SEGMENT_64 = 0x19;
const LC_CODE_SIGNATURE = 0x1d;
const CPU_TYPE_X86_64 = 0x01000007;
const CPU_TYPE_ARM64 = 0x0100000c;

const CSMAGIC_EMBEDDED_SIGNATURE = 0xfade0cc0;
const CSMAGIC_CODEDIRECTORY = 0xfade0c02;
const CSSLOT_CODEDIRECTORY = 0;
const CS_SUPPORTSEXECSEG = 0x20400;
const CS_ADHOC = 0x2;
const CS_LINKER_SIGNED = 0x20000;
const CS_HASHTYPE_SHA256 = 2;
const CS_EXECSEG_MAIN_BINARY = 0x1;
const PAGE_SHIFT = 12;
const PAGE = 1 << PAGE_SHIFT;
const HASH_SIZE = 32;
/** SuperBlob (12) + one BlobIndex (8), aligned to 8; then the CodeDirectory header (88 bytes with execSeg). */
const BLOB_HEADERS = 24;
const CODE_DIRECTORY = 88;

const align = (value, to) => Math.ceil(value / to) * to;

/** The segments and the room for load commands of a thin 64-bit little-endian Mach-O executable. */
function parse(bytes) {
  if (bytes.length < 32 || bytes.readUInt32LE(0) !== MH_MAGIC_64) throw new Error('not a 64-bit Mach-O file');
  const cpuType = bytes.readUInt32LE(4);
  if (cpuType !== CPU_TYPE_X86_64 && cpuType !== CPU_TYPE_ARM64) throw new Error(`unexpected CPU type 0x${cpuType.toString(16)}`);
  const fileType = bytes.readUInt32LE(12);
  const ncmds = bytes.readUInt32LE(16);
  const sizeofcmds = bytes.readUInt32LE(20);
  const segments = [];
  let firstSectionOffset = bytes.length;
  let codeSignature;
  let at = 32;
  for (let index = 0; index < ncmds; index++) {
    const cmd = bytes.readUInt32LE(at);
    const cmdsize = bytes.readUInt32LE(at + 4);
    if (cmdsize < 8 || at + cmdsize > 32 + sizeofcmds) throw new Error(`load command ${index} is malformed`);
    if (cmd === LC_SEGMENT_64) {
      const name = bytes.toString('latin1', at + 8, at + 24).replace(/\0+$/, '');
      const nsects = bytes.readUInt32LE(at + 64);
      for (let section = 0; section < nsects; section++) {
        const offset = bytes.readUInt32LE(at + 72 + section * 80 + 48);
        if (offset > 0) firstSectionOffset = Math.min(firstSectionOffset, offset);
      }
      segments.push({
        name,
        at,
        vmsize: Number(bytes.readBigUInt64LE(at + 32)),
        fileoff: Number(bytes.readBigUInt64LE(at + 40)),
        filesize: Number(bytes.readBigUInt64LE(at + 48)),
      });
    } else if (cmd === LC_CODE_SIGNATURE) {
      codeSignature = { at, dataoff: bytes.readUInt32LE(at + 8), datasize: bytes.readUInt32LE(at + 12) };
    }
    at += cmdsize;
  }
  return { cpuType, fileType, ncmds, sizeofcmds, segments, firstSectionOffset, codeSignature };
}

/**
 * Signs the Mach-O executable `input` ad hoc and returns the signed file's bytes. `identifier` names the code in
 * the signature (codesign and the linker use the file's name). An existing signature is refused: the SEA
 * injection has removed Node's, and re-signing a signed file is not something this build needs.
 * @param {Buffer} input
 * @param {string} identifier
 */
export function signAdHoc(input, identifier) {
  const macho = parse(input);
  if (macho.codeSignature) throw new Error('the file already has a code signature (LC_CODE_SIGNATURE)');
  if (macho.fileType !== MH_EXECUTE) throw new Error('not an executable (MH_EXECUTE)');
  const text = macho.segments.find((segment) => segment.name === '__TEXT');
  const linkedit = macho.segments.find((segment) => segment.name === '__LINKEDIT');
  if (!text || !linkedit) throw new Error('no __TEXT or __LINKEDIT segment');
  // The signature is appended to __LINKEDIT, which must therefore be what ends the file.
  if (linkedit.fileoff + linkedit.filesize !== input.length) throw new Error('__LINKEDIT does not end the file');
  if (macho.segments.some((segment) => segment !== linkedit && segment.fileoff + segment.filesize > linkedit.fileoff)) {
    throw new Error('a segment lies after __LINKEDIT');
  }
  const commandsEnd = 32 + macho.sizeofcmds;
  if (commandsEnd + 16 > macho.firstSectionOffset) throw new Error('no room for one more load command');
  if (input.subarray(commandsEnd, commandsEnd + 16).some((byte) => byte !== 0)) throw new Error('the room after the load commands is not empty');

  const dataoff = align(input.length, 16);
  const slots = Math.ceil(dataoff / PAGE);
  const name = Buffer.from(identifier, 'utf8');
  const headers = align(BLOB_HEADERS + CODE_DIRECTORY + name.length + 1, 16);
  const size = align(headers + slots * HASH_SIZE, 16);
  const segmentAlign = macho.cpuType === CPU_TYPE_ARM64 ? 0x4000 : 0x1000;

  const output = Buffer.alloc(dataoff + size);
  input.copy(output);
  // The load command, counted in the header, and __LINKEDIT grown to hold the signature.
  output.writeUInt32LE(LC_CODE_SIGNATURE, commandsEnd);
  output.writeUInt32LE(16, commandsEnd + 4);
  output.writeUInt32LE(dataoff, commandsEnd + 8);
  output.writeUInt32LE(size, commandsEnd + 12);
  output.writeUInt32LE(macho.ncmds + 1, 16);
  output.writeUInt32LE(macho.sizeofcmds + 16, 20);
  const linkeditSize = dataoff + size - linkedit.fileoff;
  output.writeBigUInt64LE(BigInt(linkeditSize), linkedit.at + 48);
  output.writeBigUInt64LE(BigInt(Math.max(linkedit.vmsize, align(linkeditSize, segmentAlign))), linkedit.at + 32);

  const signature = output.subarray(dataoff);
  signature.writeUInt32BE(CSMAGIC_EMBEDDED_SIGNATURE, 0);
  signature.writeUInt32BE(size, 4);
  signature.writeUInt32BE(1, 8);
  signature.writeUInt32BE(CSSLOT_CODEDIRECTORY, 12);
  signature.writeUInt32BE(BLOB_HEADERS, 16);
  const directory = signature.subarray(BLOB_HEADERS);
  directory.writeUInt32BE(CSMAGIC_CODEDIRECTORY, 0);
  directory.writeUInt32BE(size - BLOB_HEADERS, 4);
  directory.writeUInt32BE(CS_SUPPORTSEXECSEG, 8);
  directory.writeUInt32BE(CS_ADHOC | CS_LINKER_SIGNED, 12);
  directory.writeUInt32BE(headers - BLOB_HEADERS, 16); // hashOffset
  directory.writeUInt32BE(CODE_DIRECTORY, 20); // identOffset
  directory.writeUInt32BE(0, 24); // nSpecialSlots
  directory.writeUInt32BE(slots, 28); // nCodeSlots
  directory.writeUInt32BE(dataoff, 32); // codeLimit
  directory.writeUInt8(HASH_SIZE, 36);
  directory.writeUInt8(CS_HASHTYPE_SHA256, 37);
  directory.writeUInt8(0, 38); // platform
  directory.writeUInt8(PAGE_SHIFT, 39);
  // spare2, scatterOffset, teamOffset, spare3, codeLimit64: zero.
  directory.writeBigUInt64BE(BigInt(text.fileoff), 64); // execSegBase
  directory.writeBigUInt64BE(BigInt(text.filesize), 72); // execSegLimit
  directory.writeBigUInt64BE(BigInt(CS_EXECSEG_MAIN_BINARY), 80); // execSegFlags
  name.copy(directory, CODE_DIRECTORY);

  // The page hashes cover the file as it now is, header and grown __LINKEDIT included, up to the signature.
  for (let slot = 0; slot < slots; slot++) {
    const page = output.subarray(slot * PAGE, Math.min((slot + 1) * PAGE, dataoff));
    const digest = createHash('sha256').update(page).digest();
    digest.copy(signature, headers + slot * HASH_SIZE);
  }
  return output;
}
