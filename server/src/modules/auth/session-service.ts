import { randomUUID } from 'node:crypto';

import type { FastifyBaseLogger } from 'fastify';
import type { Types } from 'mongoose';

import type { TLoginResult, TMe, TRole } from '@gen3d/shared';

import { DomainError, Unauthorized } from '../../domain-errors.js';
import { bearerTokenOf, type AccessTokens } from '../../infra/access-tokens.js';
import { checkAgainstDecoy, checkPassword, hashPassword } from '../../infra/passwords.js';
import { hashToken, randomToken } from '../../infra/secret-tokens.js';
import type { Actor, AuditLog } from '../audit/audit-log.js';
import type { AccountReader } from '../users/account-reader.js';
import type { UserModel } from '../users/model.js';
import { toMe } from '../users/user-views.js';
import type { GuessLimits } from './guess-limits.js';
import type { AuthModels } from './model.js';

export interface Device {
  ip: string;
  userAgent: string | undefined;
}

/** The caller of an authenticated request, as loaded from the database (roles are never taken from the token alone). */
export interface AuthenticatedUser {
  id: string;
  email: string;
  roles: TRole[];
  /** The account as loaded for this request, so `auth.me` needs no second read. */
  account: TMe;
}

export interface SessionDeps {
  users: UserModel;
  accounts: AccountReader;
  models: AuthModels;
  accessTokens: AccessTokens;
  refreshTokenTtlDays: number;
  log: FastifyBaseLogger;
  audit: AuditLog;
  /** Consecutive wrong passwords per email, across windows: past the threshold logins are locked. */
  guesses: GuessLimits;
}

export interface SessionService {
  /**
   * Same error and the same work for a wrong email and a wrong password; deactivated accounts cannot log
   * in; too many consecutive wrong passwords lock the email for a while (ACCOUNT_LOCKED).
   */
  login(email: string, password: string, device: Device): Promise<TLoginResult>;
  /** Rotates: the presented token is spent and a new one returned; a spent token revokes its whole family. */
  refresh(refreshToken: string, device: Device): Promise<{ token: string; refreshToken: string }>;
  /** Revokes the presented refresh token (idempotent). */
  logout(refreshToken: string): Promise<void>;
  /** Revokes every refresh token of the user. */
  logoutEverywhere(userId: string): Promise<void>;
  /** The user behind an `Authorization: Bearer` header, or an UNAUTHORIZED error. */
  authenticate(authorization: string | undefined): Promise<AuthenticatedUser>;
}

const INVALID_CREDENTIALS = 'Email or password is incorrect';

function anonymous(device: Device): Actor {
  return { userId: null, email: null, via: 'api', ip: device.ip, userAgent: device.userAgent ?? null };
}

export function createSessionService(deps: SessionDeps): SessionService {
  const { users, accounts, models, accessTokens, log, audit } = deps;
  const refreshLifetimeMs = deps.refreshTokenTtlDays * 24 * 60 * 60 * 1000;

  async function issueRefreshToken(
    userId: Types.ObjectId,
    familyId: string,
    device: Device,
  ): Promise<string> {
    const token = randomToken();
    await models.RefreshToken.create({
      tokenHash: hashToken(token),
      userId,
      familyId,
      ip: device.ip,
      userAgent: device.userAgent?.slice(0, 300) ?? '',
      expiresAt: new Date(Date.now() + refreshLifetimeMs),
    });
    return token;
  }

  async function revokeFamily(familyId: string): Promise<void> {
    await models.RefreshToken.updateMany({ familyId, revokedAt: null }, { $set: { revokedAt: new Date() } });
  }

  const invalidRefresh = (): DomainError =>
    new DomainError('INVALID_TOKEN', 'The refresh token is invalid, expired or already used; log in again');

  return {
    async login(email, password, device) {
      const guess = await deps.guesses.count('password', email, anonymous(device));
      const user = await users.findOne({ email });
      if (!user) {
        await checkAgainstDecoy(password);
        throw new DomainError('INVALID_CREDENTIALS', INVALID_CREDENTIALS);
      }
      const check = await checkPassword(user.passwordHash, password);
      if (!check.valid) throw new DomainError('INVALID_CREDENTIALS', INVALID_CREDENTIALS);
      await guess.succeeded();
      if (!user.active)
        throw new DomainError('ACCOUNT_DISABLED', 'This account is deactivated; contact an administrator');
      await users.updateOne(
        { _id: user._id },
        {
          $set: {
            lastActiveAt: new Date(),
            ...(check.needsRehash ? { passwordHash: await hashPassword(password) } : {}),
          },
        },
      );
      const roles = [...user.roles] as TRole[];
      const id = user._id.toHexString();
      return {
        ok: true,
        token: await accessTokens.issue({ userId: id, roles }),
        refreshToken: await issueRefreshToken(user._id, randomUUID(), device),
        user: { id, email: user.email, userName: user.userName, roles, emailVerified: user.emailVerified },
      };
    },

    async refresh(refreshToken, device) {
      const record = await models.RefreshToken.findOne({ tokenHash: hashToken(refreshToken) });
      if (!record || record.revokedAt || record.expiresAt.getTime() <= Date.now()) throw invalidRefresh();
      const spent = await models.RefreshToken.findOneAndUpdate(
        { _id: record._id, spentAt: null, revokedAt: null },
        { $set: { spentAt: new Date() } },
      );
      if (!spent) {
        log.warn(
          { userId: record.userId.toHexString(), familyId: record.familyId, ip: device.ip },
          'refresh token reuse detected: revoking the token family',
        );
        await revokeFamily(record.familyId);
        const owner = await users.findById(record.userId, { email: 1 }).lean();
        await audit.record({
          action: 'auth.refresh_token_reused',
          actor: anonymous(device),
          target: { type: 'user', id: record.userId.toHexString(), label: owner?.email },
          details: { familyId: record.familyId },
        });
        throw invalidRefresh();
      }
      const user = await users.findById(record.userId);
      if (!user || !user.active) {
        await revokeFamily(record.familyId);
        throw invalidRefresh();
      }
      const id = user._id.toHexString();
      await users.updateOne({ _id: user._id }, { $set: { lastActiveAt: new Date() } });
      return {
        token: await accessTokens.issue({ userId: id, roles: user.roles as TRole[] }),
        refreshToken: await issueRefreshToken(user._id, record.familyId, device),
      };
    },

    async logout(refreshToken) {
      await models.RefreshToken.updateOne(
        { tokenHash: hashToken(refreshToken), revokedAt: null },
        { $set: { revokedAt: new Date() } },
      );
    },

    async logoutEverywhere(userId) {
      await models.RefreshToken.updateMany({ userId, revokedAt: null }, { $set: { revokedAt: new Date() } });
    },

    async authenticate(authorization) {
      const token = bearerTokenOf(authorization);
      if (!token)
        throw new Unauthorized(
          authorization ? 'The Authorization header must be "Bearer <access token>"' : undefined,
        );
      const claims = await accessTokens.verify(token);
      if (!claims || !/^[0-9a-f]{24}$/.test(claims.userId))
        throw new Unauthorized('The access token is invalid or expired');
      const user = await accounts.byId(claims.userId);
      if (!user || !user.active) throw new Unauthorized('The access token is invalid or expired');
      const account = toMe(user);
      return { id: account.id, email: account.email, roles: account.roles, account };
    },
  };
}
