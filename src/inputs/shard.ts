import { createHash } from 'node:crypto';
import { UsageError } from '../errors.js';

/** One of `count` parts of a batch (`--shard index/count`); `index` is 1-based. */
export interface Shard {
  readonly index: number;
  readonly count: number;
}

const SHARD = /^(\d+)\/(\d+)$/;

/**
 * Reads `--shard i/n` (`'2/5'` → `{ index: 2, count: 5 }`). Throws a {@link UsageError} unless both are whole
 * numbers with 1 ≤ i ≤ n, matching a CI matrix that counts its jobs from 1.
 */
export function parseShard(text: string): Shard {
  const match = SHARD.exec(text.trim());
  const index = Number(match?.[1]);
  const count = Number(match?.[2]);
  if (!match || !Number.isSafeInteger(count) || count < 1 || index < 1 || index > count) {
    throw new UsageError(`--shard must be i/n with whole numbers 1 ≤ i ≤ n, such as 2/5; got '${text}'.`, [
      'Give each of n jobs its own i from 1 to n: together they upload every input exactly once.',
    ]);
  }
  return { index, count };
}

/**
 * Whether an input falls in a shard: the first 4 bytes of the SHA-256 of its shard key, read as an unsigned
 * big-endian integer, modulo the shard count. It depends only on the input as listed, so every machine
 * agrees, and each input lands in exactly one of the n shards.
 */
export function inShard(input: string, shard: Shard, platform: NodeJS.Platform = process.platform): boolean {
  const bucket = createHash('sha256').update(shardKey(input, platform)).digest().readUInt32BE(0) % shard.count;
  return bucket === shard.index - 1;
}

/**
 * The input as every system spells it, so that jobs on Linux, macOS and Windows split one batch the same
 * way: names in Unicode NFC (macOS file systems hand out NFD), and on Windows `\` written as `/`
 * (`captures\a.bin` from a walk there is `captures/a.bin` everywhere else).
 */
export function shardKey(input: string, platform: NodeJS.Platform = process.platform): string {
  const key = input.normalize('NFC');
  return platform === 'win32' ? key.replace(/\\/g, '/') : key;
}
