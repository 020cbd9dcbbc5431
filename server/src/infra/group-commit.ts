interface Batch<T, R> {
  items: T[];
  results: Promise<R[]>;
  settle(outcome: { results: R[] } | { error: unknown }): void;
}

function newBatch<T, R>(): Batch<T, R> {
  let settle: Batch<T, R>['settle'] = () => {};
  const results = new Promise<R[]>((resolve, reject) => {
    settle = (outcome) => ('results' in outcome ? resolve(outcome.results) : reject(outcome.error));
  });
  return { items: [], results, settle };
}

/**
 * Runs items in groups: items submitted while a run is under way wait and go together in the next one, so
 * under load many items share one round trip; an item submitted while none is under way runs at once.
 * `run` answers one result per item, in order. Each submission settles with the run that carried it
 * (rejecting with that run's error). Runs of one group never overlap.
 */
export function grouped<T, R>(run: (items: T[]) => Promise<R[]>): (item: T) => Promise<R> {
  let running = false;
  let waiting: Batch<T, R> | undefined;

  function start(batch: Batch<T, R>): void {
    running = true;
    run(batch.items).then(
      (results) => finish(batch, { results }),
      (error: unknown) => finish(batch, { error: error ?? new Error('the grouped run failed') }),
    );
  }

  function finish(batch: Batch<T, R>, outcome: { results: R[] } | { error: unknown }): void {
    batch.settle(outcome);
    running = false;
    const next = waiting;
    waiting = undefined;
    if (next) start(next);
  }

  return (item) => {
    const batch = running ? (waiting ??= newBatch()) : newBatch<T, R>();
    const index = batch.items.push(item) - 1;
    if (!running) start(batch);
    return batch.results.then((results) => results[index] as R);
  };
}

/** Group commit: writes submitted while one is under way go together in the next (see `grouped`). */
export function groupCommit<T>(flush: (items: T[]) => Promise<void>): (item: T) => Promise<void> {
  return grouped(async (items: T[]) => {
    await flush(items);
    return items.map(() => undefined);
  });
}
