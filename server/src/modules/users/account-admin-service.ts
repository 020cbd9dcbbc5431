import type { TAdminUserResult, TDeletedCounts, TDeleteUserResult, TRole, TUserView } from '@gen3d/shared';

import { isDuplicateKeyError } from '../../db/duplicate-key.js';
import { sameId } from '../../db/ids.js';
import { Conflict, DomainError, Forbidden, NotFound } from '../../domain-errors.js';
import { assertStrongPassword } from '../../infra/password-strength.js';
import { hashPassword } from '../../infra/passwords.js';
import type { ApiKeyService } from '../api-keys/service.js';
import type { Actor, AuditLog } from '../audit/audit-log.js';
import type { SessionService } from '../auth/session-service.js';
import type { UserModel } from './model.js';
import type { OwnedData } from './owned-data.js';
import { adminViewOf } from './user-views.js';

export interface NewAccount {
  email: string;
  userName: string;
  password: string;
  roles: TRole[];
}

export interface EmailChange {
  email?: string | undefined;
  emailVerified?: boolean | undefined;
}

/** Each change answers what the admin endpoints return: the account as admins see it afterwards. */
export interface AccountAdminService {
  /** Creates a verified account; CONFLICT when the email is taken, WEAK_PASSWORD for a guessable password. */
  create(actor: Actor, account: NewAccount): Promise<TUserView>;
  /** Replaces the roles; an actor cannot change their own, and the last active admin keeps admin. */
  setRoles(actor: Actor, userId: string, roles: TRole[]): Promise<TAdminUserResult>;
  /**
   * Sets the email and/or whether it is verified; CONFLICT when another account uses the email. Each
   * value that really changes is audited with its before and after.
   */
  setEmail(actor: Actor, userId: string, change: EmailChange): Promise<void>;
  /** Deactivation revokes every session and API key at once; the last active admin cannot be deactivated. */
  setActive(actor: Actor, userId: string, active: boolean): Promise<TAdminUserResult>;
  /**
   * Deletes the account and everything it owns, once `confirmEmail` repeats its email. Nobody deletes
   * their own account this way, and the last active admin stays.
   */
  delete(actor: Actor, userId: string, confirmEmail: string): Promise<TDeleteUserResult>;
  /** The id of the account with this email, or NOT_FOUND. */
  idOfEmail(email: string): Promise<string>;
}

/** What lets an account in: its sessions and its API keys, both ended at deactivation. */
export interface AccountCredentials {
  sessions: SessionService;
  apiKeys: Pick<ApiKeyService, 'revokeAllOf'>;
}

/** Account changes by admins and admin scripts; each one that happens is written to the audit log. */
export function createAccountAdminService(
  users: UserModel,
  { sessions, apiKeys }: AccountCredentials,
  ownedData: OwnedData[],
  audit: AuditLog,
  passwordMinScore: number,
): AccountAdminService {
  async function load(userId: string) {
    const user = await users.findById(userId);
    if (!user) throw new NotFound('User not found');
    return user;
  }

  async function viewOf(userId: string): Promise<TUserView> {
    const user = await users.findById(userId).lean();
    if (!user) throw new NotFound('User not found');
    return adminViewOf(user);
  }

  const answer = async (userId: string, message: string): Promise<TAdminUserResult> => ({
    ok: true,
    message,
    user: await viewOf(userId),
  });

  const lastAdmin = (): Conflict =>
    new Conflict('This is the last active admin; make someone else an admin first');

  /**
   * Applies a change that may remove an active admin. Checking first and writing after is not atomic,
   * so the count is checked again after the write; when two such changes race and leave no admin,
   * each one reverts itself.
   */
  async function keepingAnAdmin(
    userId: string,
    apply: () => Promise<unknown>,
    revert: () => Promise<unknown>,
  ): Promise<void> {
    if ((await users.countDocuments({ _id: { $ne: userId }, roles: 'admin', active: true })) === 0)
      throw lastAdmin();
    await apply();
    if ((await users.countDocuments({ roles: 'admin', active: true })) === 0) {
      await revert();
      throw lastAdmin();
    }
  }

  return {
    async create(actor, account) {
      await assertStrongPassword(account.password, [account.email, account.userName], passwordMinScore);
      try {
        const roles = [...new Set(account.roles)];
        const user = await users.create({
          email: account.email,
          userName: account.userName,
          passwordHash: await hashPassword(account.password),
          roles,
          emailVerified: true,
        });
        const id = user._id.toHexString();
        await audit.record({
          action: 'user.created',
          actor,
          target: { type: 'user', id, label: user.email },
          changes: { before: {}, after: { email: user.email, userName: user.userName, roles } },
        });
        return await viewOf(id);
      } catch (error) {
        if (isDuplicateKeyError(error)) throw new Conflict('An account with this email already exists');
        throw error;
      }
    },

    async setRoles(actor, userId, roles) {
      if (sameId(actor.userId, userId)) throw new Forbidden('Nobody can change their own roles');
      const user = await load(userId);
      const next = [...new Set(roles)];
      const apply = () => users.updateOne({ _id: user._id }, { $set: { roles: next } });
      if (user.roles.includes('admin') && !next.includes('admin') && user.active) {
        await keepingAnAdmin(userId, apply, () =>
          users.updateOne({ _id: user._id }, { $addToSet: { roles: 'admin' } }),
        );
      } else {
        await apply();
      }
      await audit.record({
        action: 'user.roles_changed',
        actor,
        target: { type: 'user', id: userId, label: user.email },
        changes: { before: { roles: [...user.roles] }, after: { roles: next } },
      });
      return answer(userId, `Roles set to ${roles.join(', ')}`);
    },

    async setEmail(actor, userId, { email, emailVerified }) {
      const user = await load(userId);
      const set = {
        ...(email !== undefined && email !== user.email ? { email } : {}),
        ...(emailVerified !== undefined && emailVerified !== user.emailVerified ? { emailVerified } : {}),
      };
      if (Object.keys(set).length === 0) return;
      try {
        await users.updateOne({ _id: user._id }, { $set: set });
      } catch (error) {
        if (isDuplicateKeyError(error)) throw new Conflict('Another account already uses this email');
        throw error;
      }
      const target = { type: 'user' as const, id: user._id.toHexString(), label: set.email ?? user.email };
      if (set.email !== undefined)
        await audit.record({
          action: 'user.email_changed',
          actor,
          target,
          changes: { before: { email: user.email }, after: { email: set.email } },
        });
      if (set.emailVerified !== undefined)
        await audit.record({
          action: 'user.email_verification_changed',
          actor,
          target,
          changes: {
            before: { emailVerified: user.emailVerified },
            after: { emailVerified: set.emailVerified },
          },
        });
    },

    async setActive(actor, userId, active) {
      if (sameId(actor.userId, userId) && !active)
        throw new Forbidden('You cannot deactivate your own account');
      const user = await load(userId);
      const apply = () => users.updateOne({ _id: user._id }, { $set: { active } });
      if (!active && user.active && user.roles.includes('admin')) {
        await keepingAnAdmin(userId, apply, () =>
          users.updateOne({ _id: user._id }, { $set: { active: true } }),
        );
      } else {
        await apply();
      }
      if (!active) {
        await sessions.logoutEverywhere(userId);
        await apiKeys.revokeAllOf(actor, userId, 'account deactivated');
      }
      const action = active ? 'user.reactivated' : 'user.deactivated';
      await audit.record({
        action,
        actor,
        target: { type: 'user', id: userId, label: user.email },
        changes: { before: { active: user.active }, after: { active } },
      });
      return answer(
        userId,
        active
          ? 'The account is active again'
          : 'The account is deactivated; its sessions have ended and its API keys are revoked',
      );
    },

    async delete(actor, userId, confirmEmail) {
      if (sameId(actor.userId, userId)) throw new Forbidden('You cannot delete your own account');
      const user = await load(userId);
      if (user.email !== confirmEmail)
        throw new DomainError(
          'CONFIRMATION_MISMATCH',
          'confirmEmail must repeat the email of the account being deleted',
        );
      // The account is shut first, so a deletion cut short leaves a deactivated account that a second
      // delete finishes, never a usable account with part of its data gone.
      const shut = () => users.updateOne({ _id: user._id }, { $set: { active: false } });
      if (user.active && user.roles.includes('admin')) {
        await keepingAnAdmin(userId, shut, () =>
          users.updateOne({ _id: user._id }, { $set: { active: true } }),
        );
      } else {
        await shut();
      }
      await sessions.logoutEverywhere(userId);
      const counts: TDeletedCounts = {
        accounts: 0,
        refreshTokens: 0,
        passwordResets: 0,
        jobs: 0,
        assets: 0,
        messages: 0,
        chats: 0,
        webhookEndpoints: 0,
        apiKeys: 0,
      };
      for (const data of ownedData) counts[data.kind] = await data.deleteAllOf(user._id);
      counts.accounts = (await users.deleteOne({ _id: user._id })).deletedCount;
      const before = {
        email: user.email,
        userName: user.userName,
        roles: [...user.roles],
        active: user.active,
      };
      await audit.record({
        action: 'user.deleted',
        actor,
        target: { type: 'user', id: userId, label: user.email },
        changes: { before, after: {} },
        details: { deleted: counts },
      });
      return { ok: true, message: `The account ${confirmEmail} and its data are deleted`, deleted: counts };
    },

    async idOfEmail(email) {
      const user = await users.findOne({ email: email.trim().toLowerCase() }, { _id: 1 }).lean();
      if (!user) throw new NotFound(`No account with the email ${email}`);
      return String(user._id);
    },
  };
}
