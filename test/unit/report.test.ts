import { describe, expect, it } from 'vitest';
import type { AttemptOutcome } from '../../src/api/types.js';
import { UploadReport } from '../../src/cli/report.js';
import type { Terminal } from '../../src/cli/terminal.js';
import type { AttemptEvent } from '../../src/engine/run.js';
import type { UploadJob } from '../../src/inputs/check.js';

/** A terminal that is not one (plain lines, as in CI), keeping what was written. */
function plainTerminal() {
  const out: string[] = [];
  const err: string[] = [];
  const plain = (text: string) => text;
  const terminal: Terminal = {
    out: (line) => out.push(line),
    outRecord: (record) => out.push(JSON.stringify(record)),
    err: (line) => err.push(line),
    color: { red: plain, yellow: plain, dim: plain },
    interactive: false,
  };
  return { terminal, out, err };
}

const job: UploadJob = { input: 'f\u001b[2J.bin', kind: 'file', payload: { kind: 'file', path: '/f.bin', filename: 'f.bin', bytes: 1 } };
const refused: AttemptOutcome = { ok: false, status: 'RATE_LIMIT_EXCEEDED', httpStatus: 429, retryable: true, retryAfterMs: 60_000, maybeDelivered: false };
const event = (delayMs: number, outcome = refused): AttemptEvent => ({ job, attempt: 1, outcome, ms: 5, decision: { retry: true, delayMs, why: 'Retry-After' } });

function report() {
  const t = plainTerminal();
  const r = new UploadReport(t.terminal, { json: false, quiet: false, verbose: false, lang: 'en', origins: {}, host: 'h' });
  return { ...t, report: r };
}

describe('UploadReport: waits before a retry', () => {
  it('says a long wait in plain output: what for, how long, until when, and that a longer Retry-After was capped', () => {
    const { report: r, err } = report();
    r.attempt(event(60_000));
    expect(err).toHaveLength(1);
    expect(err[0]).toMatch(/^waiting 1 min 00 s, until \d\d:\d\d:\d\d, to retry f\\x1b\[2J\.bin: RATE_LIMIT_EXCEEDED \(HTTP 429\), the server's Retry-After, capped at 60 s$/);
  });

  it('says nothing of a short wait without --verbose, and one line for waits of a batch that end together', () => {
    const { report: r, err } = report();
    r.attempt(event(500, { ...refused, retryAfterMs: 500 }));
    expect(err).toHaveLength(0);
    r.attempt(event(3000, { ...refused, retryAfterMs: 3000 }));
    r.attempt(event(3000, { ...refused, retryAfterMs: 3000 }));
    expect(err).toHaveLength(1);
  });

  it('names backoff when the server gave no Retry-After', () => {
    const { report: r, err } = report();
    r.attempt(event(4000, { ...refused, status: 'INTERNAL_ERROR', httpStatus: 500, retryAfterMs: undefined }));
    expect(err[0]).toMatch(/INTERNAL_ERROR \(HTTP 500\), backoff$/);
  });
});
