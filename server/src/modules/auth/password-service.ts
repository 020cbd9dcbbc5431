import type { FastifyBaseLogger } from 'fastify';

import { DomainError, Unauthorized } from '../../domain-errors.js';
import type { Mailer } from '../../infra/mailer.js';
import { checkPassword, hashPassword } from '../../infra/passwords.js';
import { hashToken, randomToken } from '../../infra/secret-tokens.js';
import type { Actor, AuditLog } from '../audit/audit-log.js';
import type { UserModel } from '../users/model.js';
import { passwordResetEmail } from './emails.js';
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
}

export interface PasswordService {
  /** Answers the same whether or not the account exists; the emailed token works once, for an hour. */
  requestReset(email: string, device: Device): Promise<void>;
  /** Sets the new password and ends every session (refresh and access tokens) of the account. */
  reset(token: string, newPassword: string, device: Device): Promise<void>;
  /** Needs the current password; ends every session of the account, the caller's too. */
  change(actor: Actor, currentPassword: string, newPassword: string): Promise<void>;
}

const anonymous = (device: Device): Actor => ({
  userId: null,
  email: null,
  via: 'api',
  ip: device.ip,
  userAgent: device.userAgent ?? null,
});

export function createPasswordService(deps: PasswordDeps): PasswordService {
  const { users, models, mailer, sessions, log, audit } = deps;
  return {
    async requestReset(email, device) {
      const user = await users.findOne({ email, active: true });
      if (!user) return;
      await audit.record({
        action: 'auth.password_reset_requested',
        actor: anonymous(device),
        target: { type: 'user', id: user._id.toHexString(), label: user.email },
      });
      const token = randomToken();
      await models.PasswordReset.create({
        tokenHash: hashToken(token),
        userId: user._id,
        expiresAt: new Date(Date.now() + RESET_LIFETIME_MS),
      });
      try {
        await mailer.send(passwordResetEmail(email, `${deps.appUrl}/reset-password?token=${token}`));
      } catch (error) {
        log.error({ err: error }, 'could not send the password reset email');
      }
    },

    async reset(token, newPassword, device) {
      const used = await models.PasswordReset.findOneAndUpdate(
        { tokenHash: hashToken(token), usedAt: null, expiresAt: { $gt: new Date() } },
        { $set: { usedAt: new Date() } },
      );
      if (!used)
        throw new DomainError(
          'INVALID_TOKEN',
          'This reset link is invalid, expired or already used; ask for a new one',
        );
      const user = await users.findOneAndUpdate(
        { _id: used.userId },
        { $set: { passwordHash: await hashPassword(newPassword) } },
        { projection: { email: 1 } },
      );
      await sessions.logoutEverywhere(used.userId.toHexString());
      await audit.record({
        action: 'auth.password_reset',
        actor: anonymous(device),
        target: { type: 'user', id: used.userId.toHexString(), label: user?.email },
      });
    },

    async change(actor, currentPassword, newPassword) {
      const userId = actor.userId ?? '';
      const user = await users.findById(userId, { passwordHash: 1, email: 1 });
      if (!user) throw new Unauthorized();
      if (!(await checkPassword(user.passwordHash, currentPassword)).valid) {
        throw new DomainError('INVALID_CREDENTIALS', 'The current password is incorrect');
      }
      await users.updateOne({ _id: user._id }, { $set: { passwordHash: await hashPassword(newPassword) } });
      await sessions.logoutEverywhere(userId);
      await audit.record({
        action: 'auth.password_changed',
        actor,
        target: { type: 'user', id: userId, label: user.email },
      });
    },
  };
}
