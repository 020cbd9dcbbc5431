import type { FastifyBaseLogger } from 'fastify';

import type { TRegisterInput } from '@gen3d/shared';

import { isDuplicateKeyError } from '../../db/duplicate-key.js';
import { Conflict, DomainError, RateLimited } from '../../domain-errors.js';
import type { Mailer } from '../../infra/mailer.js';
import { hashPassword } from '../../infra/passwords.js';
import { hashCode, randomCode, sameHash } from '../../infra/secret-tokens.js';
import type { UserModel } from '../users/model.js';
import { registrationAttemptEmail, verificationCodeEmail } from './emails.js';
import type { AuthModels } from './model.js';

const CODE_LIFETIME_MS = 15 * 60 * 1000;
const PENDING_LIFETIME_MS = 24 * 60 * 60 * 1000;
const RESEND_INTERVAL_MS = 60 * 1000;
const MAX_CODE_ATTEMPTS = 5;
const REGISTER_ANSWER = 'Check your inbox: we sent a 6-digit code to confirm your email address.';

export interface RegistrationDeps {
  users: UserModel;
  models: AuthModels;
  mailer: Mailer;
  /** The HMAC key of verification codes (derived from JWT_SECRET for this purpose only). */
  codePepper: Buffer;
  log: FastifyBaseLogger;
}

export interface RegisteredUser {
  id: string;
  email: string;
  userName: string;
}

export interface RegistrationService {
  /** Always answers the same, whether or not the email has an account; sends a code or a notice. */
  register(input: TRegisterInput): Promise<{ ok: true; message: string }>;
  /** Creates the account when the code matches; a code dies after 15 minutes or 5 wrong tries. */
  verify(email: string, code: string): Promise<{ ok: true; message: string; user: RegisteredUser }>;
}

export function createRegistrationService(deps: RegistrationDeps): RegistrationService {
  const { users, models, mailer, log } = deps;

  async function sendQuietly(kind: string, send: () => Promise<void>): Promise<void> {
    try {
      await send();
    } catch (error) {
      // The registration is stored: the user can register again to get a new code.
      log.error({ err: error, kind }, 'could not send email');
    }
  }

  return {
    async register(input) {
      if (await users.exists({ email: input.email })) {
        await sendQuietly('registration-attempt', () => mailer.send(registrationAttemptEmail(input.email)));
        return { ok: true, message: REGISTER_ANSWER };
      }
      const now = new Date();
      const pending = await models.PendingRegistration.findOne({ email: input.email });
      if (pending && now.getTime() - pending.lastSentAt.getTime() < RESEND_INTERVAL_MS) {
        const waitSeconds = Math.ceil(
          (RESEND_INTERVAL_MS - (now.getTime() - pending.lastSentAt.getTime())) / 1000,
        );
        throw new RateLimited(
          waitSeconds,
          `A code was sent less than a minute ago; ask again in ${waitSeconds} s`,
        );
      }
      const code = randomCode();
      const fields = {
        userName: input.userName,
        passwordHash: await hashPassword(input.password),
        codeHash: hashCode(code, deps.codePepper),
        codeExpiresAt: new Date(now.getTime() + CODE_LIFETIME_MS),
        failedAttempts: 0,
        lastSentAt: now,
        expiresAt: new Date(now.getTime() + PENDING_LIFETIME_MS),
      };
      try {
        await models.PendingRegistration.updateOne(
          { email: input.email },
          { $set: fields },
          { upsert: true },
        );
      } catch (error) {
        if (!isDuplicateKeyError(error)) throw error;
        // A concurrent registration for the same address won the upsert; this one updates it.
        await models.PendingRegistration.updateOne({ email: input.email }, { $set: fields });
      }
      await sendQuietly('verification-code', () => mailer.send(verificationCodeEmail(input.email, code)));
      return { ok: true, message: REGISTER_ANSWER };
    },

    async verify(email, code) {
      const invalid = new DomainError(
        'INVALID_CODE',
        'The code is wrong or has expired; register again to get a new one',
      );
      const pending = await models.PendingRegistration.findOne({ email });
      if (
        !pending ||
        pending.codeExpiresAt.getTime() < Date.now() ||
        pending.failedAttempts >= MAX_CODE_ATTEMPTS
      )
        throw invalid;
      if (!sameHash(pending.codeHash, hashCode(code, deps.codePepper))) {
        const after = await models.PendingRegistration.findOneAndUpdate(
          { _id: pending._id },
          { $inc: { failedAttempts: 1 } },
          { returnDocument: 'after' },
        );
        const left = MAX_CODE_ATTEMPTS - (after?.failedAttempts ?? MAX_CODE_ATTEMPTS);
        throw new DomainError(
          'INVALID_CODE',
          left > 0
            ? `The code is wrong; ${left} attempt(s) left`
            : 'Too many wrong codes; register again to get a new one',
        );
      }
      // Only one concurrent verification can consume the pending registration.
      const consumed = await models.PendingRegistration.findOneAndDelete({
        _id: pending._id,
        codeHash: pending.codeHash,
      });
      if (!consumed) throw invalid;
      try {
        const user = await users.create({
          email,
          userName: consumed.userName,
          passwordHash: consumed.passwordHash,
          roles: ['user'],
          emailVerified: true,
        });
        return {
          ok: true,
          message: 'Your email address is confirmed; you can log in now.',
          user: { id: user._id.toHexString(), email: user.email, userName: user.userName },
        };
      } catch (error) {
        if (isDuplicateKeyError(error))
          throw new Conflict('This email address already has an account; log in instead');
        throw error;
      }
    },
  };
}
