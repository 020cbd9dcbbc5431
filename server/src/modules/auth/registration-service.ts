import type { FastifyBaseLogger } from 'fastify';

import type { TRegisterInput } from '@gen3d/shared';

import { isDuplicateKeyError } from '../../db/duplicate-key.js';
import { Conflict, DomainError } from '../../domain-errors.js';
import type { Mailer, MailMessage } from '../../infra/mailer.js';
import { assertStrongPassword } from '../../infra/password-strength.js';
import { hashPassword } from '../../infra/passwords.js';
import { hashCode, randomCode, sameHash } from '../../infra/secret-tokens.js';
import { anonymousActor } from '../audit/audit-log.js';
import type { UserModel } from '../users/model.js';
import type { CooledEmail, EmailCooldown } from './email-cooldown.js';
import { registrationAttemptEmail, verificationCodeEmail } from './emails.js';
import type { GuessLimits } from './guess-limits.js';
import type { AuthModels } from './model.js';
import type { Device } from './session-service.js';

const CODE_LIFETIME_MS = 15 * 60 * 1000;
const PENDING_LIFETIME_MS = 24 * 60 * 60 * 1000;
const REGISTER_ANSWER = 'Check your inbox: we sent a 6-digit code to confirm your email address.';

export interface RegistrationDeps {
  users: UserModel;
  models: AuthModels;
  mailer: Mailer;
  /** The HMAC key of verification codes (derived from JWT_SECRET for this purpose only). */
  codePepper: Buffer;
  log: FastifyBaseLogger;
  cooldown: EmailCooldown;
  guesses: GuessLimits;
  passwordMinScore: number;
}

export interface RegisteredUser {
  id: string;
  email: string;
  userName: string;
}

export interface RegistrationService {
  /**
   * Always answers the same, with the same work, whether or not the email has an account or a pending
   * registration; sends a code or a notice at most once per cooldown. A pending registration keeps the
   * password and name it was started with: registering again only sends it a new code.
   */
  register(input: TRegisterInput): Promise<{ ok: true; message: string }>;
  /**
   * Creates the account when the code matches; a code dies after 15 minutes, and wrong codes are counted
   * for the email across re-sent codes (locked past 5).
   */
  verify(
    email: string,
    code: string,
    device: Device,
  ): Promise<{ ok: true; message: string; user: RegisteredUser }>;
}

export function createRegistrationService(deps: RegistrationDeps): RegistrationService {
  const { users, models, mailer, log, cooldown } = deps;

  async function sendOncePerCooldown(kind: CooledEmail, email: string, message: () => Promise<MailMessage>) {
    if (!(await cooldown.claim(kind, email))) return;
    try {
      await mailer.send(await message());
    } catch (error) {
      // The registration is stored: registering again sends a new code.
      log.error({ err: error, kind }, 'could not send email');
      await cooldown.release(kind, email);
    }
  }

  /** A new code for the pending registration of `email`, replacing the one it had. */
  async function newCode(email: string): Promise<MailMessage> {
    const code = randomCode();
    await models.PendingRegistration.updateOne(
      { email },
      {
        $set: {
          codeHash: hashCode(code, deps.codePepper),
          codeExpiresAt: new Date(Date.now() + CODE_LIFETIME_MS),
        },
      },
    );
    return verificationCodeEmail(email, code);
  }

  return {
    async register(input) {
      await assertStrongPassword(input.password, [input.email, input.userName], deps.passwordMinScore);
      const { email } = input;
      // Hashed on every path, so the time taken does not tell which one was taken.
      const passwordHash = await hashPassword(input.password);
      if (await users.exists({ email })) {
        await sendOncePerCooldown('registration-attempt', email, async () => registrationAttemptEmail(email));
        return { ok: true, message: REGISTER_ANSWER };
      }
      const now = Date.now();
      try {
        // Only the first registration of an address sets its password and name; later ones only re-send.
        await models.PendingRegistration.updateOne(
          { email },
          {
            $setOnInsert: {
              userName: input.userName,
              passwordHash,
              codeHash: '',
              codeExpiresAt: new Date(now),
              expiresAt: new Date(now + PENDING_LIFETIME_MS),
            },
          },
          { upsert: true },
        );
      } catch (error) {
        if (!isDuplicateKeyError(error)) throw error;
      }
      await sendOncePerCooldown('verification-code', email, () => newCode(email));
      return { ok: true, message: REGISTER_ANSWER };
    },

    async verify(email, code, device) {
      const guess = await deps.guesses.count('code', email, anonymousActor(device));
      const invalid = new DomainError(
        'INVALID_CODE',
        'The code is wrong or has expired; register again to get a new one',
      );
      const pending = await models.PendingRegistration.findOne({ email });
      if (!pending || pending.codeExpiresAt.getTime() < Date.now()) throw invalid;
      if (!sameHash(pending.codeHash, hashCode(code, deps.codePepper))) throw invalid;
      // Only one concurrent verification can consume the pending registration.
      const consumed = await models.PendingRegistration.findOneAndDelete({
        _id: pending._id,
        codeHash: pending.codeHash,
      });
      if (!consumed) throw invalid;
      await guess.succeeded();
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
