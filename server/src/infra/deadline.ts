/** A signal that aborts with a TimeoutError after a time, and the means to stop its timer early. */
export interface Deadline {
  signal: AbortSignal;
  /** Stops the timer: call it when the work ends, so nothing stays held until the deadline. */
  clear(): void;
}

/**
 * Like `AbortSignal.timeout(ms)`, but held by its timer. Node 20's timeout signal is only weakly held, so one
 * passed to `AbortSignal.any` and referenced nowhere else can be garbage-collected before it fires, and the
 * composite signal then never aborts (nodejs/node#57736): a deadline that silently never comes.
 */
export function startDeadline(ms: number): Deadline {
  const controller = new AbortController();
  const timer = setTimeout(
    () => controller.abort(new DOMException('The operation was aborted due to timeout', 'TimeoutError')),
    ms,
  );
  timer.unref();
  return { signal: controller.signal, clear: () => clearTimeout(timer) };
}
