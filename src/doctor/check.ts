import type { DoctorCheck, DoctorCheckId, DoctorFacts } from './types.js';

/** The checks that can be skipped: those after the settings. */
export type Network = Exclude<DoctorCheckId, 'versions' | 'settings'>;

/** Makes one check's result, timed from when it was started. */
export interface CheckBuilder<K extends DoctorCheckId> {
  pass(summary: string, facts: DoctorFacts[K], details?: readonly string[]): DoctorCheck;
  fail(summary: string, facts: DoctorFacts[K], fix: string, details?: readonly string[]): DoctorCheck;
}

export function startCheck<K extends DoctorCheckId>(id: K): CheckBuilder<K> {
  const started = performance.now();
  const ms = () => Math.round(performance.now() - started);
  return {
    pass: (summary, facts, details = []) => ({ id, status: 'pass', summary, details, ms: ms(), facts }) as DoctorCheck,
    fail: (summary, facts, fix, details = []) => ({ id, status: 'fail', summary, details, fix, ms: ms(), facts }) as DoctorCheck,
  };
}

/** A check not made, and why: it needs one that failed, or it does not apply. */
export function skipped(id: Network, why: string): DoctorCheck {
  return { id, status: 'skip', summary: why, details: [], ms: 0, facts: {} } as DoctorCheck;
}
