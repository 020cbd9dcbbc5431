import type { TAdminUserResult, TDeleteUserResult, TRole } from '@gen3d/shared';
import type { AuthenticatedUser } from '../auth/session-service.js';
import type { AccountAdminService } from '../users/account-admin-service.js';
import type { UsersService } from '../users/service.js';

/** Admin actions on users, each answering the user as they are afterwards. */
export interface UserAdminService {
  setRoles(actor: AuthenticatedUser, userId: string, roles: TRole[]): Promise<TAdminUserResult>;
  /** Ends the user's sessions at once; they can no longer log in. */
  deactivate(actor: AuthenticatedUser, userId: string): Promise<TAdminUserResult>;
  reactivate(actor: AuthenticatedUser, userId: string): Promise<TAdminUserResult>;
  /** Deletes the account and everything it owns once `confirmEmail` repeats its email. */
  delete(actor: AuthenticatedUser, userId: string, confirmEmail: string): Promise<TDeleteUserResult>;
}

export function createUserAdminService(accounts: AccountAdminService, users: UsersService): UserAdminService {
  const answer = async (actor: AuthenticatedUser, userId: string, message: string): Promise<TAdminUserResult> => ({ ok: true, message, user: await users.get(actor, userId) });
  return {
    async setRoles(actor, userId, roles) {
      await accounts.setRoles(actor.id, userId, roles);
      return answer(actor, userId, `Roles set to ${roles.join(', ')}`);
    },
    async deactivate(actor, userId) {
      await accounts.setActive(actor.id, userId, false);
      return answer(actor, userId, 'The account is deactivated and its sessions have ended');
    },
    async reactivate(actor, userId) {
      await accounts.setActive(actor.id, userId, true);
      return answer(actor, userId, 'The account is active again');
    },
    async delete(actor, userId, confirmEmail) {
      const deleted = await accounts.delete(actor.id, userId, confirmEmail);
      return { ok: true, message: `The account ${confirmEmail} and its data are deleted`, deleted };
    },
  };
}
