/**
 * What scripts/build-exe.mjs does to a Windows executable (PE32+) around the SEA injection:
 *   - before: remove the Authenticode signature Node.js shipped with. Left in, it would cover bytes that
 *     changed, and the injection (LIEF) puts its new resource section where the signature was, so the
 *     certificate table would point into that section. Removing it is what `osslsigncode remove-signature` does,
 *     and gives the same bytes (test/e2e/exe-targets.test.ts compares them): the certificate table, which is the
 *     last thing in the file, is cut off, its data directory entry zeroed, and the checksum set again;
 *   - after: set the image checksum in the optional header, as Windows' `CheckSumMappedFile` computes it (the
 *     loader ignores it for programs, but signing and inspection tools check it; the injection leaves it stale).
 */

const PE32_PLUS = 0x20b;
const CERTIFICATE_TABLE = 4;

/** Offsets of the optional header's fields this module reads or writes. */
function headers(bytes) {
  if (bytes.length < 0x40 || bytes.toString('latin1', 0, 2) !== 'MZ') throw new Error('no DOS header (MZ)');
  const pe = bytes.readUInt32LE(0x3c);
  if (bytes.toString('latin1', pe, pe + 4) !== 'PE\0\0') throw new Error('no PE signature');
  const optional = pe + 24;
  if (bytes.readUInt16LE(optional) !== PE32_PLUS) throw new Error('not a PE32+ (64-bit) image');
  return { checksum: optional + 64, directories: optional + 112, directoryCount: bytes.readUInt32LE(optional + 108) };
}

/** The certificate table's file offset and size (0 and 0 when the file is not signed). */
export function certificateTable(bytes) {
  const { directories, directoryCount } = headers(bytes);
  if (directoryCount <= CERTIFICATE_TABLE) return { offset: 0, size: 0 };
  const at = directories + CERTIFICATE_TABLE * 8;
  return { offset: bytes.readUInt32LE(at), size: bytes.readUInt32LE(at + 4) };
}

/** `bytes` without its Authenticode signature (a copy; `bytes` itself when it has none). */
export function removeSignature(bytes) {
  const { offset, size } = certificateTable(bytes);
  if (size === 0) return bytes;
  if (offset + size !== bytes.length) throw new Error('the certificate table is not at the end of the file');
  const unsigned = Buffer.from(bytes.subarray(0, offset));
  const { directories } = headers(unsigned);
  unsigned.fill(0, directories + CERTIFICATE_TABLE * 8, directories + CERTIFICATE_TABLE * 8 + 8);
  setChecksum(unsigned);
  return unsigned;
}

/** The image checksum of `bytes`: 16-bit one's-complement-style sum of the file (its checksum field as 0), plus its length. */
export function computeChecksum(bytes) {
  const { checksum } = headers(bytes);
  let sum = 0;
  const even = bytes.length & ~1;
  for (let at = 0; at < even; at += 2) {
    if (at === checksum || at === checksum + 2) continue;
    sum += bytes[at] | (bytes[at + 1] << 8);
    sum = (sum & 0xffff) + (sum >>> 16);
  }
  if (even !== bytes.length) {
    sum += bytes[even];
    sum = (sum & 0xffff) + (sum >>> 16);
  }
  sum = (sum & 0xffff) + (sum >>> 16);
  return (sum + bytes.length) >>> 0;
}

/** Writes the image checksum into `bytes`, in place. */
export function setChecksum(bytes) {
  bytes.writeUInt32LE(computeChecksum(bytes), headers(bytes).checksum);
}
