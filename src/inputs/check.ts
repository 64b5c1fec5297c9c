import { createHash } from 'node:crypto';
import { access, accessSync, constants, createReadStream, stat, statSync, type Stats } from 'node:fs';
import { open } from 'node:fs/promises';
import { resolve } from 'node:path';
import type { UploadPayload } from '../api/types.js';
import { forEachConcurrently } from '../pool.js';
import { formatBytes } from '../units.js';
import type { FileBufferPool } from './buffers.js';
import { JobList } from './jobs.js';

/** One checked input, ready to upload. */
export interface UploadJob {
  /** The input as the user gave it (path, URL or `-`); this is what output and manifests show. */
  readonly input: string;
  readonly kind: 'file' | 'url';
  readonly payload: UploadPayload;
  /** SHA-256 of the content, hex; files only, once `withDigest` has read them (standard input: at once). */
  readonly sha256?: string;
  readonly bytes?: number;
}

export type { InputProblem } from '../errors.js';
import type { InputProblem } from '../errors.js';

export interface CheckOptions {
  /** Largest file accepted, bytes. */
  readonly maxSize: number;
  /** Where `-` reads from; standard input by default. */
  readonly stdin?: NodeJS.ReadableStream & { isTTY?: boolean };
  /** Resolves relative paths; the process's current directory by default. */
  readonly cwd?: string;
  /**
   * Check files through libuv's thread pool from the first (see CHECK_WINDOW): for inputs checked one at a time
   * as they come (a watched folder, often a network share, in a process that runs for days), where checking
   * synchronously gains nothing and a call that stalled would stop everything else the process does.
   */
  readonly threadPool?: boolean;
}

export interface CheckedInputs {
  readonly jobs: UploadJob[];
  readonly problems: InputProblem[];
}

/** Checked inputs with the jobs held compactly (see JobList): what a batch of any size keeps. */
export interface CheckedInputList {
  readonly jobs: JobList;
  readonly problems: InputProblem[];
}

const SCHEME = /^([a-z][a-z0-9+.-]*):\/\//i;

/** Whether an input is meant as a URL (any `scheme://`), as opposed to a path. */
export function isUrlInput(input: string): boolean {
  return SCHEME.test(input);
}

/**
 * How files are checked. A check is a stat and an access call. On a local disk each takes microseconds, while a
 * trip through libuv's thread pool costs the main thread tens of microseconds (more on a virtual machine, where
 * waking a thread is dear), and every check comes before the first upload: 1,000 files took 55–85 ms to check
 * through the pool in a batch's start, and take 20–40 ms synchronously. So files are checked synchronously, in
 * slices (SLICE_MS, SLICE_INPUTS) between which the event loop runs: a signal is heard, a spinner turns. Of each
 * CHECK_WINDOW file checks, more than half slower than SLOW_CHECK_MS say the file system is remote or busy (a
 * network share answers in about a millisecond; a garbage collection or code compiled on first use slows one
 * check, not half of them): there calls are better overlapped, so the rest are checked through the pool,
 * CHECK_CONCURRENCY at a time (that many in flight keep its threads busy rather than woken call by call). A call
 * that never returns, on a network share that hangs, holds the checks either way; in a synchronous one, even the
 * handling of a signal waits for it.
 */
const SLOW_CHECK_MS = 0.25;
const CHECK_WINDOW = 16;
const SLICE_MS = 10;
const SLICE_INPUTS = 256;
const CHECK_CONCURRENCY = 32;

/**
 * Checks every input before anything is sent: files exist, are readable regular files, are not empty and
 * fit the size limit; URLs are well-formed http(s). All problems are collected, not just the first; jobs and
 * problems keep the order of the inputs.
 */
export async function checkInputs(inputs: readonly string[], options: CheckOptions): Promise<CheckedInputs> {
  const { jobs, problems } = await checkInputList(inputs, options);
  return { jobs: [...jobs], problems };
}

type Checked = number | UploadJob | string;

/** `checkInputs`, with the jobs in a JobList: some 40 bytes an input rather than a job object each. */
export async function checkInputList(inputs: readonly string[], options: CheckOptions): Promise<CheckedInputList> {
  const jobs = new JobList(options.cwd ?? process.cwd());
  const problems: InputProblem[] = [];
  const add = (input: string, checked: Checked) => {
    if (typeof checked === 'number') jobs.pushFile(input, checked);
    else if (typeof checked === 'string') problems.push({ input, reason: checked });
    else jobs.pushJob(checked);
  };
  // Inputs are taken in order, so the first '-' taken is the first given: it alone reads standard input.
  let stdinTaken = false;
  /** Standard input's or a URL's job, or the reason it cannot be used; files are checked apart. */
  const checkOther = (input: string): Promise<UploadJob | string> | UploadJob | string => {
    if (input !== '-') return checkUrl(input);
    if (stdinTaken) return "'-' (standard input) is given more than once";
    stdinTaken = true;
    return checkStdin(options);
  };
  // The inputs are read once in order (a batch's list may be packed: see PackedStrings), synchronously while the
  // file system answers at once...
  const iterator = inputs[Symbol.iterator]();
  let taken = 0;
  let overlap = options.threadPool ?? false;
  let windowChecks = 0;
  let windowSlow = 0;
  let sliceStart = performance.now();
  while (!overlap) {
    const next = iterator.next();
    if (next.done) return { jobs, problems };
    const input = next.value;
    taken++;
    const file = isFileInput(input);
    const started = performance.now();
    const checked = file ? checkFileSync(input, options) : checkOther(input);
    add(input, checked instanceof Promise ? await checked : checked);
    const now = performance.now();
    // Only file checks tell of the file system (standard input is read as it comes; a URL is not looked up).
    if (file) {
      if (now - started > SLOW_CHECK_MS) windowSlow++;
      if (++windowChecks === CHECK_WINDOW) {
        overlap = windowSlow > CHECK_WINDOW / 2;
        windowChecks = windowSlow = 0;
      }
    }
    if (now - sliceStart > SLICE_MS || taken % SLICE_INPUTS === 0) {
      await new Promise((resolveTurn) => setImmediate(resolveTurn));
      sliceStart = performance.now();
    }
  }
  // ...then the rest overlapped. Those end in any order: sizes by position (NaN for an input that is not a
  // checked file), the rest aside, then added in order (each of these inputs read again from the list).
  const rest = inputs.length - taken;
  const sizes = new Float64Array(rest).fill(Number.NaN);
  const others = new Map<number, UploadJob | string>();
  await forEachConcurrently({ [Symbol.iterator]: () => iterator }, CHECK_CONCURRENCY, async (input, index) => {
    const checked = await (isFileInput(input) ? checkFile(input, options) : checkOther(input));
    if (typeof checked === 'number') sizes[index] = checked;
    else others.set(index, checked);
  });
  for (let index = 0; index < rest; index++) {
    const input = inputs[taken + index] as string;
    const size = sizes[index] as number;
    add(input, Number.isNaN(size) ? (others.get(index) as UploadJob | string) : size);
  }
  return { jobs, problems };
}

/** An input that names a file (not `-`, not a URL). */
function isFileInput(input: string): boolean {
  return input !== '-' && !isUrlInput(input);
}

/** A URL input, percent-encoded as UTF-8 (the server downloads it); or the reason it cannot be used. */
export function checkUrl(input: string): UploadJob | string {
  const scheme = SCHEME.exec(input)?.[1]?.toLowerCase();
  if (scheme !== 'http' && scheme !== 'https') {
    return `unsupported URL scheme '${scheme}:' (the server downloads only http:// and https:// addresses)`;
  }
  let url: URL;
  try {
    url = new URL(input);
  } catch {
    return 'is not a well-formed URL';
  }
  if (!url.hostname) return 'is not a well-formed URL: it has no host';
  if (url.username || url.password) return 'must not contain a user name or password';
  return { input, kind: 'url', payload: { kind: 'url', url: url.href } };
}

/** The size of a file fit to upload, or the reason it is not: synchronously (see CHECK_WINDOW). */
function checkFileSync(input: string, options: CheckOptions): number | string {
  const path = resolve(options.cwd ?? process.cwd(), input);
  const verdict = statVerdict(input, outcome(() => statSync(path)), options.maxSize);
  if (typeof verdict === 'string') return verdict;
  const denied = outcome(() => accessSync(path, constants.R_OK));
  return denied instanceof Error ? describeFsError(denied) : verdict;
}

/** `checkFileSync`, through libuv's thread pool. */
async function checkFile(input: string, options: CheckOptions): Promise<number | string> {
  const path = resolve(options.cwd ?? process.cwd(), input);
  const verdict = statVerdict(input, await call<Stats>((done) => stat(path, done)).catch(asError), options.maxSize);
  if (typeof verdict === 'string') return verdict;
  const denied = await call<void>((done) => access(path, constants.R_OK, done)).catch(asError);
  return denied instanceof Error ? describeFsError(denied) : verdict;
}

/** What a file's stat says: its size when it may be uploaded (if readable), or the reason it may not. */
function statVerdict(input: string, info: Stats | Error, maxSize: number): number | string {
  if (info instanceof Error) {
    // A name read from a folder that is not valid UTF-8 comes back with U+FFFD in it, and that name does
    // not exist: say why rather than "no such file".
    if ((info as { code?: string }).code === 'ENOENT' && input.includes('\uFFFD')) {
      return 'the file name is not valid UTF-8, so linkface cannot open it; rename the file';
    }
    return describeFsError(info);
  }
  if (info.isDirectory()) return 'is a directory';
  if (!info.isFile()) return `is not a regular file (${fileType(info)})`;
  // The SHA-256 comes later, just before the upload (withDigest), so that hashing overlaps uploading.
  return checkSize(info.size, maxSize) ?? info.size;
}

/** A synchronous call's result, or what it threw. */
function outcome<T>(call: () => T): T | Error {
  try {
    return call();
  } catch (error) {
    return asError(error);
  }
}

function asError(error: unknown): Error {
  return error instanceof Error ? error : new Error(String(error));
}

/** One file-system call through its callback API: no FileHandle to make, track and close per file. */
function call<T>(start: (done: (error: NodeJS.ErrnoException | null, value: T) => void) => void): Promise<T> {
  return new Promise((resolvePromise, reject) => start((error, value) => (error ? reject(error) : resolvePromise(value))));
}

/** Files up to this size are read once, hashed and sent from memory; larger ones are streamed twice. */
export const READ_WHOLE_BYTES = 256 * 1024;

/**
 * The job with its content's SHA-256 (deduplication and --resume key on it); or the reason the file can no
 * longer be read. A small file is read once: the bytes hashed are the bytes sent, and a batch of many small
 * files does half the reads and makes far less garbage. A larger one is hashed streaming and streamed again
 * when sent, so memory stays flat whatever its size.
 */
export async function withDigest(job: UploadJob, buffers?: FileBufferPool): Promise<UploadJob | string> {
  const { payload } = job;
  if (job.sha256 || payload.kind !== 'file') return job;
  try {
    if (payload.bytes > READ_WHOLE_BYTES) return { ...job, sha256: await hashFile(payload.path) };
    const data = await readSmallFile(payload.path, payload.bytes, buffers);
    if (typeof data === 'string') return data;
    return {
      ...job,
      sha256: createHash('sha256').update(data).digest('hex'),
      payload: { kind: 'bytes', data, filename: payload.filename },
    };
  } catch (error) {
    return describeFsError(error);
  }
}

/**
 * A small file's bytes, into `buffers` when given. Opened non-blocking: were the file replaced by a named pipe
 * since it was checked, the open must not wait for a writer (fstat then says what it is).
 */
async function readSmallFile(path: string, checkedBytes: number, buffers?: FileBufferPool): Promise<Buffer | string> {
  const file = await open(path, constants.O_RDONLY | (constants.O_NONBLOCK ?? 0));
  try {
    const info = await file.stat();
    if (!info.isFile()) return `is no longer a regular file (${fileType(info)})`;
    if (info.size !== checkedBytes) return changedSize(checkedBytes, info.size);
    const data = buffers?.take(checkedBytes) ?? Buffer.allocUnsafe(checkedBytes);
    let size = 0;
    while (size < checkedBytes) {
      const { bytesRead } = await file.read(data, size, checkedBytes - size, size);
      if (bytesRead === 0) break;
      size += bytesRead;
    }
    if (size === checkedBytes) return data;
    buffers?.give(data);
    return changedSize(checkedBytes, size);
  } finally {
    await file.close();
  }
}

function changedSize(checkedBytes: number, bytes: number): string {
  return `the file changed size since it was checked (${checkedBytes} bytes, now ${bytes})`;
}

async function checkStdin(options: CheckOptions): Promise<UploadJob | string> {
  const stdin = options.stdin ?? process.stdin;
  if (stdin.isTTY) return "'-' reads the file from standard input, but standard input is a terminal; pipe or redirect the file in";
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of stdin) {
    const buffer = typeof chunk === 'string' ? Buffer.from(chunk) : (chunk as Buffer);
    size += buffer.byteLength;
    // Stop reading as soon as the limit is passed: standard input may be endless.
    if (size > options.maxSize) return checkSize(size, options.maxSize, 'more than ') as string;
    chunks.push(buffer);
  }
  const sizeProblem = checkSize(size, options.maxSize);
  if (sizeProblem) return sizeProblem;
  const data = Buffer.concat(chunks);
  return {
    input: '-',
    kind: 'file',
    sha256: createHash('sha256').update(data).digest('hex'),
    bytes: size,
    payload: { kind: 'bytes', data, filename: 'stdin' },
  };
}

function checkSize(size: number, maxSize: number, qualifier = ''): string | undefined {
  if (size === 0) return 'is empty (0 bytes): liveness data from the SDK is never empty';
  if (size > maxSize) {
    let [actual, limit] = [formatBytes(size), formatBytes(maxSize)];
    // 5 MiB + 1 byte rounds to "5 MiB": then say the bytes.
    if (actual === limit) [actual, limit] = [`${size} bytes`, `${maxSize}-byte`];
    return `is ${qualifier}${actual}, over the ${limit} limit (the API takes at most 5 MiB; --max-size)`;
  }
  return undefined;
}

function hashFile(path: string): Promise<string> {
  return new Promise((resolvePromise, reject) => {
    const hash = createHash('sha256');
    createReadStream(path)
      .on('error', reject)
      .on('data', (chunk) => hash.update(chunk))
      .on('end', () => resolvePromise(hash.digest('hex')));
  });
}

/** A file-system error in words a user acts on. */
export function describeFsError(error: unknown, platform: NodeJS.Platform = process.platform): string {
  const code = (error as { code?: string }).code;
  switch (code) {
    case 'ENOENT':
      return 'no such file or directory';
    case 'EBUSY':
      return 'the file is locked by another program (EBUSY): let the program writing it finish, then run again';
    case 'EPERM':
      // Windows says EPERM for a file another program holds open without sharing (a writer, an antivirus scan).
      if (platform === 'win32') return 'permission denied, or the file is locked by another program (EPERM): if it is still being written, run again once it is complete';
      return 'permission denied: the file is not readable by this user';
    case 'EACCES':
      return 'permission denied: the file is not readable by this user';
    case 'ENOTDIR':
      return 'no such file (a parent in the path is not a directory)';
    case 'ELOOP':
      return 'too many levels of symbolic links';
    case 'EISDIR':
      return 'is a directory';
    default:
      return `cannot be read (${code ?? String(error)})`;
  }
}

function fileType(info: { isFIFO(): boolean; isSocket(): boolean; isCharacterDevice(): boolean; isBlockDevice(): boolean }): string {
  if (info.isFIFO()) return 'a named pipe';
  if (info.isSocket()) return 'a socket';
  if (info.isCharacterDevice() || info.isBlockDevice()) return 'a device';
  return 'not a file';
}
