import { randomUUID } from 'node:crypto';

import type { FastifyBaseLogger } from 'fastify';
import type { Types } from 'mongoose';

import type { TLoginResult, TMe, TRole } from '@gen3d/shared';

import { DomainError, Unauthorized } from '../../domain-errors.js';
import { bearerTokenOf, type AccessClaims, type AccessTokens } from '../../infra/access-tokens.js';
import { checkAgainstDecoy, checkPassword, hashPassword } from '../../infra/passwords.js';
import { hashToken, randomToken } from '../../infra/secret-tokens.js';
import type { Actor, AuditLog } from '../audit/audit-log.js';
import type { AccountReader } from '../users/account-reader.js';
import type { UserModel } from '../users/model.js';
import { toMe } from '../users/user-views.js';
import type { GuessLimits } from './guess-limits.js';
import type { AuthModels, RefreshFamilyRecord } from './model.js';

type RefreshFamily = RefreshFamilyRecord & { _id: string };

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
  accessTokenTtlSeconds: number;
  refreshTokenTtlDays: number;
  /** How long the token just rotated out may be presented again (0: any second use is reuse). */
  refreshReuseGraceSeconds: number;
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
  /**
   * Rotates: the presented token is spent and a new one returned. A spent token presented again (after
   * the reuse grace) ends the session and every access token of the account.
   */
  refresh(refreshToken: string, device: Device): Promise<{ token: string; refreshToken: string }>;
  /** Ends the session of the presented refresh token, its access tokens included (idempotent). */
  logout(refreshToken: string): Promise<void>;
  /** Ends every session and access token of the user (a session version bump). */
  logoutEverywhere(userId: string): Promise<void>;
  /** The user behind an `Authorization: Bearer` header, or an UNAUTHORIZED error. */
  authenticate(authorization: string | undefined): Promise<AuthenticatedUser>;
}

const INVALID_CREDENTIALS = 'Email or password is incorrect';
/** Hashes a family remembers (its newest ones), so a token that many rotations old presented again is still seen as reuse. */
const TOKEN_HASHES_REMEMBERED = 20;
/** Sessions logged out one by one that an account lists at once; one more ends all its sessions instead. */
const ENDED_SESSIONS_LISTED = 50;
/** An access token is signed just after its session's rotation, so it may expire a little after the session ended. */
const SIGNING_MARGIN_MS = 60_000;
/** Rotations of one family racing each other: each lost race re-reads the family and decides again. */
const ROTATION_ATTEMPTS = 10;

function anonymous(device: Device): Actor {
  return { userId: null, email: null, via: 'api', ip: device.ip, userAgent: device.userAgent ?? null };
}

/** The session facts an access token is checked against, as the account stores them. */
interface SessionState {
  sessionVersion?: number | null;
  endedSessions?: Array<{ sessionId: string; until: Date }> | null;
}

/** Whether an access token's session is still alive on the account: same session version, session not logged out. */
function sessionAlive(account: SessionState, claims: AccessClaims): boolean {
  if ((account.sessionVersion ?? 0) !== claims.sessionVersion) return false;
  const now = Date.now();
  return !(account.endedSessions ?? []).some(
    (ended) => ended.sessionId === claims.sessionId && ended.until.getTime() > now,
  );
}

/*
 * Why no token of an ended session survives, whatever the interleaving. A rotation reads the account
 * first, then writes the family on condition it is neither revoked nor rotated meanwhile (generation).
 * - A logout revokes the family, then lists the session on the account: a rotation that won its write
 *   read the account before the listing, and its access token fails as soon as the listing is written.
 * - Every other ending bumps the account's session version: tokens issued before carry the old one, and
 *   a rotation that read the account after the bump finds its family's version outdated and revokes it
 *   (so does a login that raced a logout-all, at its first refresh).
 */
export function createSessionService(deps: SessionDeps): SessionService {
  const { users, accounts, models, accessTokens, log, audit } = deps;
  const families = models.RefreshFamily;
  const refreshLifetimeMs = deps.refreshTokenTtlDays * 24 * 60 * 60 * 1000;
  const graceMs = deps.refreshReuseGraceSeconds * 1000;
  const accessLifetimeMs = deps.accessTokenTtlSeconds * 1000;

  const invalidRefresh = (): DomainError =>
    new DomainError('INVALID_TOKEN', 'The refresh token is invalid, expired or already used; log in again');

  async function revokeFamily(familyId: string): Promise<void> {
    await families.updateOne({ _id: familyId, revokedAt: null }, { $set: { revokedAt: new Date() } });
  }

  /** Every access token and session of the account ends: its session version moves on. */
  async function endAllSessions(userId: Types.ObjectId | string): Promise<void> {
    await users.updateOne({ _id: userId }, { $inc: { sessionVersion: 1 } });
    // The version bump is what ends them; marking the families revoked keeps the session counts right.
    await families.updateMany({ userId, revokedAt: null }, { $set: { revokedAt: new Date() } });
  }

  /** The access tokens of one (already revoked) session end: the account lists it until they have expired. */
  async function endOneSession(userId: Types.ObjectId, sessionId: string): Promise<void> {
    await users.updateOne({ _id: userId }, { $pull: { endedSessions: { until: { $lte: new Date() } } } });
    const until = new Date(Date.now() + accessLifetimeMs + SIGNING_MARGIN_MS);
    const listed = await users.updateOne(
      { _id: userId, [`endedSessions.${ENDED_SESSIONS_LISTED - 1}`]: { $exists: false } },
      { $push: { endedSessions: { sessionId, until } } },
    );
    // The list stays bounded: past it, ending every session is the safe answer.
    if (listed.matchedCount === 0) await endAllSessions(userId);
  }

  async function refreshTokenReused(family: RefreshFamily, device: Device): Promise<never> {
    log.warn(
      { userId: family.userId.toHexString(), familyId: family._id, ip: device.ip },
      'refresh token reuse detected: revoking the token family and ending every session of the account',
    );
    await revokeFamily(family._id);
    await endAllSessions(family.userId);
    const owner = await users.findById(family.userId, { email: 1 }).lean();
    await audit.record({
      action: 'auth.refresh_token_reused',
      actor: anonymous(device),
      target: { type: 'user', id: family.userId.toHexString(), label: owner?.email },
      details: { familyId: family._id },
    });
    throw invalidRefresh();
  }

  const usable = (family: RefreshFamily | null): family is RefreshFamily =>
    family !== null && !family.revokedAt && family.expiresAt.getTime() > Date.now();

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
      const sessionId = randomUUID();
      const sessionVersion = user.sessionVersion ?? 0;
      const refreshToken = randomToken();
      const tokenHash = hashToken(refreshToken);
      await families.create({
        _id: sessionId,
        userId: user._id,
        sessionVersion,
        currentHash: tokenHash,
        tokenHashes: [tokenHash],
        ip: device.ip,
        userAgent: device.userAgent?.slice(0, 300) ?? '',
        expiresAt: new Date(Date.now() + refreshLifetimeMs),
      });
      return {
        ok: true,
        token: await accessTokens.issue({ userId: id, roles, sessionId, sessionVersion }),
        refreshToken,
        user: { id, email: user.email, userName: user.userName, roles, emailVerified: user.emailVerified },
      };
    },

    async refresh(refreshToken, device) {
      const presented = hashToken(refreshToken);
      let family = await families.findOne({ tokenHashes: presented }).lean<RefreshFamily>();
      if (!usable(family)) throw invalidRefresh();
      // The account is read before the rotation is written (see the comment above the service).
      const user = await users.findById(family.userId, { roles: 1, active: 1, sessionVersion: 1 }).lean();
      if (!user || !user.active || (user.sessionVersion ?? 0) !== family.sessionVersion) {
        await revokeFamily(family._id);
        throw invalidRefresh();
      }
      for (let attempt = 0; attempt < ROTATION_ATTEMPTS; attempt += 1) {
        const current = family.currentHash === presented;
        const justRotated =
          family.previousHash === presented &&
          family.rotatedAt !== null &&
          family.rotatedAt !== undefined &&
          family.rotatedAt.getTime() + graceMs > Date.now();
        if (!current && !justRotated) return refreshTokenReused(family, device);
        const next = randomToken();
        const nextHash = hashToken(next);
        // The newest pair wins: the token it replaces becomes the one that may still come back within the grace.
        const rotated = await families.updateOne(
          { _id: family._id, generation: family.generation, revokedAt: null, expiresAt: { $gt: new Date() } },
          {
            $set: {
              currentHash: nextHash,
              previousHash: family.currentHash,
              rotatedAt: new Date(),
              ip: device.ip,
              userAgent: device.userAgent?.slice(0, 300) ?? '',
            },
            $inc: { generation: 1 },
            $push: { tokenHashes: { $each: [nextHash], $slice: -TOKEN_HASHES_REMEMBERED } },
          },
        );
        if (rotated.modifiedCount === 1) {
          await users.updateOne({ _id: user._id }, { $set: { lastActiveAt: new Date() } });
          return {
            token: await accessTokens.issue({
              userId: user._id.toHexString(),
              roles: user.roles as TRole[],
              sessionId: family._id,
              sessionVersion: family.sessionVersion,
            }),
            refreshToken: next,
          };
        }
        // Another rotation or an ending won the write: decide again on what the family is now.
        family = await families.findById(family._id).lean<RefreshFamily>();
        if (!usable(family)) throw invalidRefresh();
      }
      throw invalidRefresh();
    },

    async logout(refreshToken) {
      const family = await families
        .findOneAndUpdate(
          { tokenHashes: hashToken(refreshToken), revokedAt: null },
          { $set: { revokedAt: new Date() } },
        )
        .lean<RefreshFamily>();
      if (family) await endOneSession(family.userId, family._id);
    },

    async logoutEverywhere(userId) {
      await endAllSessions(userId);
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
      // The session check uses the account this request reads anyway: no extra round trip.
      const user = await accounts.byId(claims.userId);
      if (!user || !user.active || !sessionAlive(user, claims))
        throw new Unauthorized('The access token is invalid or expired');
      const account = toMe(user);
      return { id: account.id, email: account.email, roles: account.roles, account };
    },
  };
}
