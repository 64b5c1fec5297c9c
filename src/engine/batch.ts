import { MAX_FILE_BYTES } from '../api/contract.js';
import { InvalidInputsError, type InputProblem } from '../errors.js';
import { mapWithConcurrency } from '../pool.js';
import { checkInputList, isUrlInput, type UploadJob, withDigest } from '../inputs/check.js';
import { expandInputs, type Shard } from '../inputs/expand.js';
import { type RunOptions, runUploads, type UploadHooks, type UploadResult, type UploadSender } from './run.js';
import { type ResultsStore, resumedResult } from './store.js';

/** The API's size limit, 5 MiB: the default `maxSizeBytes`. */
export const MAX_SIZE_BYTES = MAX_FILE_BYTES;

/** How inputs become a batch: the same choices as the command line's. */
export interface PlanOptions {
  /** Where relative paths, patterns and lists are resolved; the process's current directory by default. */
  readonly cwd?: string;
  /** Keep only walked or globbed files that match one of these globs. */
  readonly include?: readonly string[];
  /** Drop walked or globbed files that match any of these globs. */
  readonly exclude?: readonly string[];
  /** Lists of more inputs, one a line; `-` reads a list from `stdin`. */
  readonly filesFrom?: readonly string[];
  /** Where `-` (as an input or a list) reads; standard input by default. */
  readonly stdin?: NodeJS.ReadableStream & { isTTY?: boolean };
  /** Keep only this shard's inputs (`{ index: 2, count: 4 }`, 1-based). */
  readonly shard?: Shard;
  /** Largest file accepted, in bytes; default 5 MiB. */
  readonly maxSizeBytes?: number;
  /** Report invalid inputs as SKIPPED results instead of throwing, and upload the rest. */
  readonly skipInvalid?: boolean;
}

/** A batch ready to upload: inputs expanded and checked. */
export interface UploadPlan {
  /**
   * What will be uploaded, in order. A read-only array whose jobs are made as they are read: a plan holds only
   * each input's name and size, so that a batch of any number of inputs stays small in memory.
   */
  readonly jobs: readonly UploadJob[];
  /** Inputs passed over with `skipInvalid`: reported as SKIPPED results, never sent. */
  readonly invalid: readonly InputProblem[];
}

/**
 * Turns inputs (files, folders, glob patterns, URLs, `-`) into a plan: folders walked, patterns expanded,
 * lists read, the shard taken, then every input checked before anything is sent.
 *
 * @throws {InvalidInputsError} listing every problem, unless `skipInvalid` (nothing has been sent).
 */
export async function planUploads(inputs: readonly string[], options: PlanOptions = {}): Promise<UploadPlan> {
  const cwd = options.cwd ?? process.cwd();
  const { include, exclude, filesFrom, stdin, shard } = options;
  const expanded = await expandInputs(inputs, { cwd, include, exclude, filesFrom, stdin, shard });
  const checked = await checkInputList(expanded.inputs, { maxSize: options.maxSizeBytes ?? MAX_SIZE_BYTES, cwd, stdin });
  const invalid = [...expanded.problems, ...checked.problems];
  if (invalid.length > 0 && !options.skipInvalid) throw new InvalidInputsError(invalid);
  return { jobs: checked.jobs.asArray(), invalid };
}

/**
 * Uploads a plan: its invalid inputs become SKIPPED results, then every job is uploaded (see `runUploads`).
 * Every result is recorded in `options.store` and handed to `hooks.onResult` as it settles.
 */
export async function uploadPlan(plan: UploadPlan, sender: UploadSender, options: RunOptions, hooks: UploadHooks = {}): Promise<UploadResult[]> {
  const skipped = plan.invalid.map(skippedResult);
  for (const result of skipped) {
    await options.store?.record(result);
    hooks.onResult?.(result);
  }
  const results = await runUploads(plan.jobs, sender, options, hooks);
  return options.keepResults === false ? results : [...skipped, ...results];
}

/**
 * Uploads inputs as they come from an iterable that may never end (the files of a watched folder): each is
 * checked as it is taken (a file or a URL; folders and patterns are not expanded here), an invalid one
 * becomes a SKIPPED result, and the rest go through `runUploads` with its store, retries and rate adaptation.
 * Nothing is held per input once it settled, besides the digest that same-content deduplication keeps.
 */
export async function uploadStream(
  inputs: AsyncIterable<string> | Iterable<string>,
  sender: UploadSender,
  options: RunOptions & { readonly cwd?: string; readonly maxSizeBytes?: number },
  hooks: UploadHooks = {},
): Promise<void> {
  // One at a time as they come: through the thread pool, so that a stalled network share holds back new uploads
  // only, not those in flight nor the service's signals.
  const check = { maxSize: options.maxSizeBytes ?? MAX_SIZE_BYTES, cwd: options.cwd, threadPool: true };
  async function* jobs(): AsyncGenerator<UploadJob> {
    for await (const input of inputs) {
      const checked = await checkInputList([input], check);
      const [job] = checked.jobs;
      if (job) {
        yield job;
        continue;
      }
      for (const problem of checked.problems) {
        const result = skippedResult(problem);
        await options.store?.record(result);
        hooks.onResult?.(result);
      }
    }
  }
  await runUploads(jobs(), sender, { ...options, keepResults: false }, hooks);
}

/** An invalid input passed over on request (`skipInvalid`): reported, never sent. */
export function skippedResult(problem: InputProblem): UploadResult {
  return {
    input: problem.input,
    kind: isUrlInput(problem.input) ? 'url' : 'file',
    ok: false,
    status: 'SKIPPED',
    reason: `invalid input: ${problem.reason}`,
    retryable: false,
    attempts: 0,
    ms: 0,
    at: new Date().toISOString(),
  };
}

/** What a plan would do, sending nothing: the jobs to upload, and the results of those it would not send. */
export interface PlanPreview {
  readonly toUpload: readonly UploadJob[];
  /** Invalid inputs (SKIPPED) and, with a store, inputs it shows uploaded before (ok, `resumed`). */
  readonly skipped: readonly UploadResult[];
}

/**
 * A dry run: what uploading the plan would send and what it would pass over. With a store to resume from,
 * files are hashed (read, not sent) to find what an earlier run uploaded.
 */
export async function previewPlan(plan: UploadPlan, resumeFrom?: ResultsStore): Promise<PlanPreview> {
  const planned = await mapWithConcurrency(plan.jobs, 8, async (unhashed): Promise<UploadJob | UploadResult> => {
    if (!resumeFrom) return unhashed;
    const job = await withDigest(unhashed);
    if (typeof job === 'string') return skippedResult({ input: unhashed.input, reason: job });
    const earlier = await resumeFrom.uploadedBefore(job);
    return earlier ? resumedResult(job, earlier) : job;
  });
  return {
    toUpload: planned.filter((item): item is UploadJob => 'payload' in item),
    skipped: [...plan.invalid.map(skippedResult), ...planned.filter((item): item is UploadResult => !('payload' in item))],
  };
}
