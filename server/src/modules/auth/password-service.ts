import type { FastifyBaseLogger } from 'fastify';
import type { Types } from 'mongoose';

import { DomainError, Unauthorized } from '../../domain-errors.js';
import type { Mailer } from '../../infra/mailer.js';
import { assertStrongPassword } from '../../infra/password-strength.js';
import { checkPassword, hashPassword } from '../../infra/passwords.js';
import { hashToken, randomToken } from '../../infra/secret-tokens.js';
import { anonymousActor, type Actor, type AuditLog } from '../audit/audit-log.js';
import type { UserModel } from '../users/model.js';
import type { EmailCooldown } from './email-cooldown.js';
import { passwordResetEmail } from './emails.js';
import type { GuessLimits } from './guess-limits.js';
import type { AuthModels } from './model.js';
import type { Device, SessionService } from './session-service.js';

const RESET_LIFETIME_MS = 60 * 60 * 1000;
export const RESET_REQUEST_ANSWER =
  'If an account exists for this address, we sent a link to reset its password.';

export interface PasswordDeps {
  users: UserModel;
  models: AuthModels;
  mailer: Mailer;
  sessions: SessionService;
  appUrl: string;
  log: FastifyBaseLogger;
  audit: AuditLog;
  cooldown: EmailCooldown;
  guesses: GuessLimits;
  passwordMinScore: number;
}

export interface PasswordService {
  /**
   * Answers the same, with the same work, whether or not the account exists; at most one link per
   * cooldown is emailed. A link works once, for an hour.
   */
  requestReset(email: string, device: Device): Promise<void>;
  /** Sets the new password, ends every other reset link and every session (refresh and access tokens), and unlocks logins. */
  reset(token: string, newPassword: string, device: Device): Promise<void>;
  /**
   * Needs the current password (wrong ones count towards the login lock); ends every reset link and every
   * session of the account, the caller's too.
   */
  change(actor: Actor, currentPassword: string, newPassword: string): Promise<void>;
}

export function createPasswordService(deps: PasswordDeps): PasswordService {
  const { users, models, mailer, sessions, log, audit, cooldown } = deps;

  /** After a password is set, no earlier reset link may set it again. */
  async function endResetLinks(userId: Types.ObjectId): Promise<void> {
    await models.PasswordReset.updateMany({ userId, usedAt: null }, { $set: { usedAt: new Date() } });
  }

  return {
    async requestReset(email, device) {
      // Both paths read the account and claim the cooldown; only an account gets a link.
      const user = await users.findOne({ email, active: true });
      if (!(await cooldown.claim('password-reset', email)) || !user) return;
      await audit.record({
        action: 'auth.password_reset_requested',
        actor: anonymousActor(device),
        target: { type: 'user', id: user._id.toHexString(), label: user.email },
      });
      const token = randomToken();
      await models.PasswordReset.create({
        tokenHash: hashToken(token),
        userId: user._id,
        expiresAt: new Date(Date.now() + RESET_LIFETIME_MS),
      });
      // Sent after the answer, so the mail server's delay does not tell that the account exists.
      void mailer
        .send(passwordResetEmail(email, `${deps.appUrl}/reset-password?token=${token}`))
        .catch((error: unknown) => log.error({ err: error }, 'could not send the password reset email'));
    },

    async reset(token, newPassword, device) {
      const tokenHash = hashToken(token);
      const valid = await models.PasswordReset.findOne({
        tokenHash,
        usedAt: null,
        expiresAt: { $gt: new Date() },
      });
      const owner = valid ? await users.findById(valid.userId, { email: 1, userName: 1 }) : null;
      if (owner)
        await assertStrongPassword(newPassword, [owner.email, owner.userName], deps.passwordMinScore);
      const used = await models.PasswordReset.findOneAndUpdate(
        { tokenHash, usedAt: null, expiresAt: { $gt: new Date() } },
        { $set: { usedAt: new Date() } },
      );
      if (!used || !owner)
        throw new DomainError(
          'INVALID_TOKEN',
          'This reset link is invalid, expired or already used; ask for a new one',
        );
      await users.updateOne({ _id: owner._id }, { $set: { passwordHash: await hashPassword(newPassword) } });
      await endResetLinks(owner._id);
      await sessions.logoutEverywhere(owner._id.toHexString());
      await deps.guesses.clear('password', owner.email);
      await audit.record({
        action: 'auth.password_reset',
        actor: anonymousActor(device),
        target: { type: 'user', id: owner._id.toHexString(), label: owner.email },
      });
    },

    async change(actor, currentPassword, newPassword) {
      const userId = actor.userId ?? '';
      const user = await users.findById(userId, { passwordHash: 1, email: 1, userName: 1 });
      if (!user) throw new Unauthorized();
      const guess = await deps.guesses.count('password', user.email, actor);
      if (!(await checkPassword(user.passwordHash, currentPassword)).valid) {
        throw new DomainError('INVALID_CREDENTIALS', 'The current password is incorrect');
      }
      await guess.succeeded();
      await assertStrongPassword(newPassword, [user.email, user.userName], deps.passwordMinScore);
      await users.updateOne({ _id: user._id }, { $set: { passwordHash: await hashPassword(newPassword) } });
      await endResetLinks(user._id);
      await sessions.logoutEverywhere(userId);
      await audit.record({
        action: 'auth.password_changed',
        actor,
        target: { type: 'user', id: userId, label: user.email },
      });
    },
  };
}
