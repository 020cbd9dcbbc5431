/**
 * Runs `refresh` while no other client sharing the lock runs its own. Refresh tokens rotate and a spent one
 * presented again ends the whole session (reuse detection), so clients sharing one token store (tabs of a
 * browser over localStorage) must take turns: the second one in finds fresh tokens and uses them.
 */
export type RefreshLock = <T>(refresh: () => Promise<T>) => Promise<T>;

/** The browser's Web Locks API (shared by every tab of an origin) where there is one; otherwise no lock. */
export function defaultRefreshLock(name: string): RefreshLock {
  const locks = (globalThis as { navigator?: { locks?: LockManager } }).navigator?.locks;
  if (!locks) return (refresh) => refresh();
  return async <T>(refresh: () => Promise<T>): Promise<T> => {
    const outcome: { value?: T } = {};
    await locks.request(name, async () => {
      outcome.value = await refresh();
    });
    return outcome.value as T;
  };
}
