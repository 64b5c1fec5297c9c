export interface TokenBucket {
  /** Takes a token: undefined when one was available, else the whole seconds until one will be (at least 1). */
  take(): number | undefined;
}

/** Capacity max(1, rate) so that a rate below one per second still lets a first request through. */
export function tokenBucket(ratePerSecond: number, now: () => number = () => performance.now()): TokenBucket {
  const capacity = Math.max(1, ratePerSecond);
  let tokens = capacity;
  let last = now();
  return {
    take() {
      const time = now();
      tokens = Math.min(capacity, tokens + ((time - last) / 1000) * ratePerSecond);
      last = time;
      if (tokens >= 1) {
        tokens -= 1;
        return undefined;
      }
      return Math.max(1, Math.ceil((1 - tokens) / ratePerSecond));
    },
  };
}
