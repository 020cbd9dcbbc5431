import type { FastifyBaseLogger } from 'fastify';

import { isDuplicateKeyError } from '../../db/duplicate-key.js';
import { DomainError } from '../../domain-errors.js';
import type { Actor, AuditLog } from '../audit/audit-log.js';
import type { UserModel } from '../users/model.js';
import type { AuthModels } from './model.js';

/** What a guess tries to prove: the account's password (login and change-password), or a registration code. */
export type GuessPurpose = 'password' | 'code';

const FORGET_AFTER_MS = 24 * 60 * 60 * 1000;

/** A guess that was counted and may now be judged; a success forgets the account's failures. */
export interface CountedGuess {
  succeeded(): Promise<void>;
}

export interface GuessLimits {
  /**
   * Counts a guess for this email before it is judged, so concurrent guesses are all counted. Past the
   * purpose's threshold of consecutive failures the email is locked (429 ACCOUNT_LOCKED, even for the
   * right secret); after the lock one guess at a time is judged, and a wrong one locks again. Unknown
   * emails are counted and locked alike.
   */
  count(purpose: GuessPurpose, email: string, actor: Actor): Promise<CountedGuess>;
  /** Forgets the failures (and any lock), e.g. after a password reset. */
  clear(purpose: GuessPurpose, email: string): Promise<void>;
}

export interface GuessLimitsDeps {
  models: AuthModels;
  users: UserModel;
  audit: AuditLog;
  log: FastifyBaseLogger;
  thresholds: Record<GuessPurpose, number>;
  lockoutMs: number;
}

export function createGuessLimits(deps: GuessLimitsDeps): GuessLimits {
  const { models, users, audit, log, lockoutMs } = deps;
  const { GuessFailure } = models;

  const locked = (until: Date): DomainError => {
    const retryAfterSeconds = Math.max(1, Math.ceil((until.getTime() - Date.now()) / 1000));
    return new DomainError(
      'ACCOUNT_LOCKED',
      `Too many failed attempts: this is locked for ${Math.ceil(retryAfterSeconds / 60)} minute(s); a password reset unlocks logins`,
      { retryAfterSeconds },
    );
  };

  async function recordLock(purpose: GuessPurpose, email: string, failures: number, actor: Actor) {
    const user = purpose === 'password' ? await users.findOne({ email }, { _id: 1 }).lean() : null;
    if (!user) {
      log.warn({ purpose, failures }, 'guessing locked out an email without an account');
      return;
    }
    await audit.record({
      action: 'auth.account_locked',
      actor,
      target: { type: 'user', id: user._id.toHexString(), label: email },
      details: { purpose, failures, lockedForSeconds: Math.round(lockoutMs / 1000) },
    });
  }

  const clear = async (purpose: GuessPurpose, email: string): Promise<void> => {
    await GuessFailure.deleteOne({ purpose, email });
  };

  return {
    async count(purpose, email, actor) {
      const now = new Date();
      const increment = () =>
        GuessFailure.findOneAndUpdate(
          { purpose, email },
          { $inc: { count: 1 }, $set: { expiresAt: new Date(now.getTime() + FORGET_AFTER_MS) } },
          { upsert: true, returnDocument: 'after' },
        ).lean();
      // Two first guesses at once can both try to insert the counter; the loser increments the winner's.
      const counted = await increment().catch((error: unknown) => {
        if (isDuplicateKeyError(error)) return increment();
        throw error;
      });
      const count = counted?.count ?? Number.POSITIVE_INFINITY;
      if (counted?.lockedUntil && counted.lockedUntil > now) throw locked(counted.lockedUntil);
      if (count > deps.thresholds[purpose]) {
        const lockedUntil = new Date(now.getTime() + lockoutMs);
        // The first guess past the threshold locks; once a lock has run out, the one guess that renews it is judged.
        const firstLock = await GuessFailure.updateOne(
          { purpose, email, lockedUntil: null },
          { $set: { lockedUntil } },
        );
        if (firstLock.modifiedCount === 1) {
          await recordLock(purpose, email, count - 1, actor);
          throw locked(lockedUntil);
        }
        const renewed = await GuessFailure.updateOne(
          { purpose, email, lockedUntil: { $ne: null, $lte: now } },
          { $set: { lockedUntil } },
        );
        if (renewed.modifiedCount !== 1) {
          const current = await GuessFailure.findOne({ purpose, email }, { lockedUntil: 1 }).lean();
          throw locked(current?.lockedUntil ?? lockedUntil);
        }
      }
      return { succeeded: () => clear(purpose, email) };
    },
    clear,
  };
}
