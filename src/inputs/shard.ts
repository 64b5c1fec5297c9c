import { createHash } from 'node:crypto';
import { UsageError } from '../errors.js';

/** One of `count` parts of a batch (`--shard index/count`); `index` is 1-based. */
export interface Shard {
  readonly index: number;
  readonly count: number;
}

const SHARD = /^(\d+)\/(\d+)$/;

/** Where CI systems say which of n parallel jobs this is: the index variable, the count variable, and its base. */
const CI_SHARD_VARIABLES = [
  { ci: 'GitLab CI (parallel:)', index: 'CI_NODE_INDEX', count: 'CI_NODE_TOTAL', base: 1 },
  { ci: 'CircleCI (parallelism:)', index: 'CIRCLE_NODE_INDEX', count: 'CIRCLE_NODE_TOTAL', base: 0 },
  { ci: 'Buildkite (parallelism:)', index: 'BUILDKITE_PARALLEL_JOB', count: 'BUILDKITE_PARALLEL_JOB_COUNT', base: 0 },
  { ci: 'a Kubernetes Indexed Job', index: 'JOB_COMPLETION_INDEX', count: 'LINKFACE_SHARD_COUNT', base: 0 },
] as const;

/**
 * `--shard auto`: this job's shard from the CI's own variables, the first system whose index is set.
 * Throws a {@link UsageError} naming them all when none is, or when its values are not a valid shard.
 */
export function shardFromCi(env: Readonly<Record<string, string | undefined>>): Shard {
  const found = CI_SHARD_VARIABLES.find(({ index }) => env[index]?.trim());
  if (!found) {
    throw new UsageError('--shard auto found no CI shard variables.', [
      ...CI_SHARD_VARIABLES.map(({ ci, index, count, base }) => `${ci}: ${index} (${base === 1 ? '1-based' : '0-based'}) and ${count}`),
      'Or give the shard yourself: --shard i/n (1-based).',
    ]);
  }
  const index = Number(env[found.index]?.trim()) + (1 - found.base);
  const count = Number(env[found.count]?.trim());
  if (!Number.isSafeInteger(index) || !Number.isSafeInteger(count) || count < 1 || index < 1 || index > count) {
    throw new UsageError(`--shard auto: ${found.index}=${env[found.index] ?? ''} and ${found.count}=${env[found.count] ?? '(not set)'} do not name a shard of ${found.ci}.`, [
      `${found.index} must be ${found.base === 1 ? '1' : '0'}..${found.count}${found.base === 1 ? '' : '-1'}, and ${found.count} the number of jobs.`,
    ]);
  }
  return { index, count };
}

/**
 * Reads `--shard i/n` (`'2/5'` → `{ index: 2, count: 5 }`) or `--shard auto` (see `shardFromCi`). Throws a
 * {@link UsageError} unless both are whole numbers with 1 ≤ i ≤ n, matching a CI matrix that counts its jobs
 * from 1.
 */
export function parseShard(text: string, env: Readonly<Record<string, string | undefined>> = process.env): Shard {
  if (text.trim() === 'auto') return shardFromCi(env);
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
