/** The engine's pieces on their own: the worker pool, same-content uploads, and stopping. */
import { describe, expect, it } from 'vitest';
import { SameContentUploads, sameContentResult } from '../../src/engine/dedupe.js';
import type { UploadResult } from '../../src/engine/run.js';
import { BatchStop } from '../../src/engine/stop.js';
import type { UploadJob } from '../../src/inputs/check.js';
import { forEachConcurrently, inTurn, mapWithConcurrency } from '../../src/pool.js';

const tick = () => new Promise((resolve) => setImmediate(resolve));

describe('the worker pool', () => {
  it('runs at most `workers` at once and gives indexes in the order items came', async () => {
    let running = 0;
    let most = 0;
    const seen: Array<[string, number]> = [];
    await forEachConcurrently(['a', 'b', 'c', 'd', 'e'], 2, async (item, index) => {
      running++;
      most = Math.max(most, running);
      await tick();
      seen.push([item, index]);
      running--;
    });
    expect(most).toBe(2);
    expect(seen.sort()).toEqual([['a', 0], ['b', 1], ['c', 2], ['d', 3], ['e', 4]]);
  });

  it('pulls items only as workers free up, so an iterable that never ends is fine', async () => {
    let pulled = 0;
    let done = 0;
    const stop = new AbortController();
    async function* endless() {
      for (;;) {
        if (stop.signal.aborted) return;
        pulled++;
        yield pulled;
      }
    }
    await forEachConcurrently(endless(), 3, async () => {
      await tick();
      done++;
      // Never more than the workers' items taken but not finished.
      expect(pulled - done).toBeLessThanOrEqual(3);
      if (done === 50) stop.abort();
    });
    expect(done).toBeGreaterThanOrEqual(50);
  });

  it('maps in order, whatever order the work finishes in', async () => {
    const out = await mapWithConcurrency([30, 10, 20], 3, (ms) => new Promise<number>((resolve) => setTimeout(() => resolve(ms), ms)));
    expect(out).toEqual([30, 10, 20]);
    expect(await mapWithConcurrency([], 4, () => 1)).toEqual([]);
  });
});

describe('calls in turn (inTurn)', () => {
  it('runs at most `limit` at once and lets the waiting ones in in the order they came', async () => {
    const gate = inTurn(2);
    let running = 0;
    let most = 0;
    const started: number[] = [];
    // Later calls finish first: the order they start in is the gate's, not the order slots free in.
    const results = await Promise.all(
      [5, 4, 3, 2, 1, 0].map((wait, i) =>
        gate(async () => {
          started.push(i);
          running++;
          most = Math.max(most, running);
          await new Promise((resolve) => setTimeout(resolve, wait));
          running--;
          return i * 10;
        }),
      ),
    );
    expect(most).toBe(2);
    expect(started).toEqual([0, 1, 2, 3, 4, 5]);
    expect(results).toEqual([0, 10, 20, 30, 40, 50]);
  });

  it('frees the slot of a call that failed', async () => {
    const gate = inTurn(1);
    await expect(gate(() => Promise.reject(new Error('unreadable')))).rejects.toThrow('unreadable');
    expect(await gate(async () => 'next')).toBe('next');
  });
});

describe('same content in one run', () => {
  const job = (input: string): UploadJob => ({ input, kind: 'file', sha256: 'abc', bytes: 3, payload: { kind: 'file', path: input, filename: input, bytes: 3 } });
  const ok: UploadResult = { input: 'first.bin', kind: 'file', sha256: 'abc', bytes: 3, ok: true, status: 'OK', livenessDataId: 'id-1', retryable: false, attempts: 1, ms: 5, at: 'x' };

  it('a later input waits for the first upload of its content and reports its id, sending nothing', async () => {
    const uploads = new SameContentUploads();
    expect(uploads.earlier('abc')).toBeUndefined();
    let finish: (result: UploadResult) => void = () => {};
    uploads.track('abc', new Promise((resolve) => (finish = resolve)));
    const waiting = uploads.earlier('abc');
    finish(ok);
    const result = sameContentResult(job('second.bin'), await (waiting as Promise<never>));
    expect(result).toMatchObject({ input: 'second.bin', ok: true, livenessDataId: 'id-1', attempts: 0, reason: 'same content as first.bin, uploaded once' });
    // Once settled, only what a later input needs is kept.
    expect(await uploads.earlier('abc')).toEqual(expect.not.objectContaining({ ms: 5 }));
  });

  it('a later input shares a failure of the first, with its reason', async () => {
    const uploads = new SameContentUploads();
    uploads.track('abc', Promise.resolve({ ...ok, ok: false, status: 'WRONG_LIVENESS_DATA', livenessDataId: undefined, reason: 'bad' }));
    const result = sameContentResult(job('second.bin'), await (uploads.earlier('abc') as Promise<never>));
    expect(result).toMatchObject({ ok: false, status: 'WRONG_LIVENESS_DATA', reason: 'bad' });
  });

  it('inputs without a digest (URLs, standard input) are never taken for one another', () => {
    const uploads = new SameContentUploads();
    uploads.track(undefined, Promise.resolve(ok));
    expect(uploads.earlier(undefined)).toBeUndefined();
  });
});

describe('stopping a batch', () => {
  it("keeps the first reason, and follows the caller's stop signal", () => {
    const caller = new AbortController();
    const stop = new BatchStop(caller.signal);
    expect(stop.reason).toBeUndefined();
    stop.stop('the account cannot upload (OUT_OF_QUOTA)');
    caller.abort();
    expect(stop.signal.aborted).toBe(true);
    expect(stop.reason).toBe('the account cannot upload (OUT_OF_QUOTA)');
    const already = new BatchStop(AbortSignal.abort());
    expect(already.reason).toBe('the run was interrupted');
  });
});

describe('the failure budget', () => {
  it('reads a number of inputs or a share of the batch, rounded down', async () => {
    const { failureBudget } = await import('../../src/engine/stop.js');
    expect(failureBudget('3', 100)).toEqual({ limit: 3, given: '3' });
    expect(failureBudget('5%', 250)).toEqual({ limit: 12, given: '5%' });
    expect(failureBudget('0', 10).limit).toBe(0);
    for (const bad of ['', 'x', '-1', '1.5', '101%', '5 %']) expect(() => failureBudget(bad, 10), bad).toThrow(/--max-failures must be/);
  });
});
