import { isDuplicateKeyError } from '../../db/duplicate-key.js';
import type { AuthModels } from './model.js';

/** The emails an address can be sent without asking for them by signing in. */
export type CooledEmail = 'verification-code' | 'registration-attempt' | 'password-reset';

/** At most one email of each kind per address per cooldown, whoever asks and from wherever. */
export interface EmailCooldown {
  /** True when this caller may send now (and the cooldown starts); false within the cooldown. */
  claim(kind: CooledEmail, email: string): Promise<boolean>;
  /** Gives the slot back after a failed send, so asking again delivers. */
  release(kind: CooledEmail, email: string): Promise<void>;
}

export function createEmailCooldown(models: AuthModels, cooldownMs: number): EmailCooldown {
  const { EmailCooldown } = models;
  return {
    async claim(kind, email) {
      const now = new Date();
      try {
        // Matches only a cooldown that has run out; a live one makes the upsert collide with the unique key.
        await EmailCooldown.updateOne(
          { kind, email, sentAt: { $lte: new Date(now.getTime() - cooldownMs) } },
          { $set: { sentAt: now, expiresAt: new Date(now.getTime() + cooldownMs) } },
          { upsert: true },
        );
        return true;
      } catch (error) {
        if (isDuplicateKeyError(error)) return false;
        throw error;
      }
    },
    async release(kind, email) {
      await EmailCooldown.deleteOne({ kind, email });
    },
  };
}
