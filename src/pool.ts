/**
 * The one worker pool of the code base: `work` over every item, at most `workers` at a time. Items are
 * pulled from the iterable only as a worker frees up, so no list of them is held, and an iterable that
 * never ends (a folder being watched) is fine. `index` counts items in the order they were pulled.
 */
export async function forEachConcurrently<T>(
  items: Iterable<T> | AsyncIterable<T>,
  workers: number,
  work: (item: T, index: number) => Promise<void> | void,
): Promise<void> {
  const iterator: Iterator<T> | AsyncIterator<T> =
    Symbol.asyncIterator in items ? items[Symbol.asyncIterator]() : (items as Iterable<T>)[Symbol.iterator]();
  let pulled = 0;
  let ended = false;
  // An async iterator is not asked for its next item before it answered the last call; the item's index is
  // given as it answers, so indexes follow the iterator's order.
  let turn: Promise<unknown> = Promise.resolve();
  const pull = (): Promise<{ item: T; index: number } | undefined> => {
    const next = turn.then(async () => {
      if (ended) return undefined;
      const result = await iterator.next();
      if (result.done) {
        ended = true;
        return undefined;
      }
      return { item: result.value, index: pulled++ };
    });
    turn = next.catch(() => {});
    return next;
  };
  const worker = async () => {
    for (let next = await pull(); next; next = await pull()) await work(next.item, next.index);
  };
  await Promise.all(Array.from({ length: Math.max(1, workers) }, worker));
}

/** `fn` over every item, at most `limit` at a time; results in the items' order. */
export async function mapWithConcurrency<T, R>(items: readonly T[], limit: number, fn: (item: T, index: number) => Promise<R> | R): Promise<R[]> {
  const results = new Array<R>(items.length);
  await forEachConcurrently(items, Math.min(limit, items.length), async (item, index) => {
    results[index] = await fn(item, index);
  });
  return results;
}

/**
 * A gate for `limit` calls at a time, letting the waiting ones in in the order they came: the first to wait
 * is the first to run. Returns the call's result; a slot frees however the call ends.
 */
export function inTurn(limit: number): <T>(call: () => Promise<T>) => Promise<T> {
  let running = 0;
  const waiting: Array<() => void> = [];
  return async (call) => {
    // A slot that frees is handed straight to the first one waiting, so `running` stays as it was.
    if (running < limit) running++;
    else await new Promise<void>((resolve) => waiting.push(resolve));
    try {
      return await call();
    } finally {
      const next = waiting.shift();
      if (next) next();
      else running--;
    }
  };
}
