interface Batch<T> {
  items: T[];
  done: Promise<void>;
  settle(error?: unknown): void;
}

function newBatch<T>(): Batch<T> {
  let settle: Batch<T>['settle'] = () => {};
  const done = new Promise<void>((resolve, reject) => {
    settle = (error) => (error === undefined ? resolve() : reject(error));
  });
  return { items: [], done, settle };
}

/**
 * Group commit: items submitted while a flush is under way wait and go together in the next one, so under
 * load many items share one write; an item submitted while none is under way is flushed at once. Each
 * submission settles with the flush that carried it (rejecting with that flush's error). Flushes of one
 * writer never overlap.
 */
export function groupCommit<T>(flush: (items: T[]) => Promise<void>): (item: T) => Promise<void> {
  let flushing = false;
  let waiting: Batch<T> | undefined;

  function start(batch: Batch<T>): void {
    flushing = true;
    flush(batch.items).then(
      () => finish(batch),
      (error: unknown) => finish(batch, error ?? new Error('the flush failed')),
    );
  }

  function finish(batch: Batch<T>, error?: unknown): void {
    batch.settle(error);
    flushing = false;
    const next = waiting;
    waiting = undefined;
    if (next) start(next);
  }

  return (item) => {
    if (flushing) {
      waiting ??= newBatch();
      waiting.items.push(item);
      return waiting.done;
    }
    const batch = newBatch<T>();
    batch.items.push(item);
    start(batch);
    return batch.done;
  };
}
