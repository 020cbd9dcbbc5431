import argon2 from 'argon2';

/** OWASP's argon2id recommendation: 19 MiB, two passes, one lane. */
const HASH_OPTIONS = { type: argon2.argon2id, memoryCost: 19_456, timeCost: 2, parallelism: 1 } as const;

export function hashPassword(password: string): Promise<string> {
  return argon2.hash(password, HASH_OPTIONS);
}

export interface PasswordCheck {
  valid: boolean;
  /** The stored hash uses weaker or older parameters and should be replaced after this login. */
  needsRehash: boolean;
}

export async function checkPassword(hash: string, password: string): Promise<PasswordCheck> {
  const valid = await argon2.verify(hash, password).catch(() => false);
  return { valid, needsRehash: valid && argon2.needsRehash(hash, HASH_OPTIONS) };
}

let decoyHash: Promise<string> | undefined;

/** Spends the time of a real check when there is no account, so timing does not reveal which emails exist. */
export async function checkAgainstDecoy(password: string): Promise<void> {
  decoyHash ??= hashPassword('decoy-password-for-unknown-accounts');
  await argon2.verify(await decoyHash, password).catch(() => false);
}
