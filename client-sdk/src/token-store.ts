/** The tokens of a signed-in session. */
export interface SessionTokens {
  accessToken: string;
  refreshToken: string;
}

/** Where the client keeps its tokens: in memory by default, or anywhere an app chooses (e.g. localStorage). */
export interface TokenStore {
  get(): SessionTokens | null;
  set(tokens: SessionTokens | null): void;
}

/** Tokens kept in this client's memory only: gone when the page or process ends. */
export function memoryTokenStore(initial: SessionTokens | null = null): TokenStore {
  let tokens = initial;
  return {
    get: () => tokens,
    set: (next) => {
      tokens = next;
    },
  };
}

/** The part of the Web Storage API the store uses (`localStorage`, `sessionStorage`). */
export interface KeyValueStorage {
  getItem(key: string): string | null;
  setItem(key: string, value: string): void;
  removeItem(key: string): void;
}

/** Tokens kept in Web Storage under `key`, so a signed-in browser session survives a reload. */
export function webStorageTokenStore(storage: KeyValueStorage, key = 'gen3d.tokens'): TokenStore {
  return {
    get: () => {
      const stored = storage.getItem(key);
      if (!stored) return null;
      try {
        const parsed = JSON.parse(stored) as Partial<SessionTokens>;
        return typeof parsed.accessToken === 'string' && typeof parsed.refreshToken === 'string'
          ? { accessToken: parsed.accessToken, refreshToken: parsed.refreshToken }
          : null;
      } catch {
        return null;
      }
    },
    set: (tokens) => (tokens ? storage.setItem(key, JSON.stringify(tokens)) : storage.removeItem(key)),
  };
}
