import { setMaxListeners } from 'node:events';
import { ExitCode } from './exit.js';
import type { Terminal } from './terminal.js';

/** How long uploads in flight may go on after Ctrl-C / SIGTERM before they are abandoned. */
const GRACE_MS = 2000;

/**
 * The signals that stop a run as Ctrl-C does: SIGTERM (a service manager, `kill`), SIGHUP (the terminal or
 * console closed: Windows kills the process about 10 s later) and, on Windows, SIGBREAK (Ctrl-Break).
 */
const STOP_SIGNALS: readonly NodeJS.Signals[] = ['SIGINT', 'SIGTERM', 'SIGHUP', ...(process.platform === 'win32' ? (['SIGBREAK'] as const) : [])];

/**
 * First Ctrl-C / SIGTERM: start nothing new, let uploads in flight finish for up to 2 s (`graceMs`), then
 * abandon them. A second one exits at once. `stopping` is what the first one's line says is happening.
 */
export function watchInterrupts(terminal: Terminal, { graceMs = GRACE_MS, stopping = 'interrupted' } = {}) {
  const stop = new AbortController();
  const cancel = new AbortController();
  // Each upload in flight listens on these; a batch has many more than Node's default warning level.
  setMaxListeners(0, stop.signal, cancel.signal);
  let timer: NodeJS.Timeout | undefined;
  const onSignal = () => {
    if (stop.signal.aborted) {
      terminal.err('linkface: interrupted again; exiting now.');
      process.exit(ExitCode.Interrupted);
    }
    terminal.err(`linkface: ${stopping}; finishing uploads in flight (at most ${graceMs / 1000} s). Press Ctrl-C again to quit at once.`);
    stop.abort();
    timer = setTimeout(() => cancel.abort(), graceMs);
  };
  for (const signal of STOP_SIGNALS) process.on(signal, onSignal);
  return {
    stop: stop.signal,
    cancel: cancel.signal,
    interrupted: () => stop.signal.aborted,
    dispose: () => {
      clearTimeout(timer);
      for (const signal of STOP_SIGNALS) process.off(signal, onSignal);
    },
  };
}

export type Interruption = ReturnType<typeof watchInterrupts>;
