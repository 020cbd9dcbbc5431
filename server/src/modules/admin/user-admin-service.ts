import type { TAdminUserResult, TDeleteUserResult, TRole } from '@gen3d/shared';

import type { Caller } from '../audit/audit-log.js';
import type { AccountAdminService } from '../users/account-admin-service.js';
import type { UsersService } from '../users/service.js';

/** Admin actions on users, each answering the user as they are afterwards. */
export interface UserAdminService {
  setRoles(caller: Caller, userId: string, roles: TRole[]): Promise<TAdminUserResult>;
  /** Ends the user's sessions at once; they can no longer log in. */
  deactivate(caller: Caller, userId: string): Promise<TAdminUserResult>;
  reactivate(caller: Caller, userId: string): Promise<TAdminUserResult>;
  /** Deletes the account and everything it owns once `confirmEmail` repeats its email. */
  delete(caller: Caller, userId: string, confirmEmail: string): Promise<TDeleteUserResult>;
}

export function createUserAdminService(accounts: AccountAdminService, users: UsersService): UserAdminService {
  const answer = async (caller: Caller, userId: string, message: string): Promise<TAdminUserResult> => ({
    ok: true,
    message,
    user: await users.get(caller.user, userId),
  });
  return {
    async setRoles(caller, userId, roles) {
      await accounts.setRoles(caller.actor, userId, roles);
      return answer(caller, userId, `Roles set to ${roles.join(', ')}`);
    },
    async deactivate(caller, userId) {
      await accounts.setActive(caller.actor, userId, false);
      return answer(caller, userId, 'The account is deactivated and its sessions have ended');
    },
    async reactivate(caller, userId) {
      await accounts.setActive(caller.actor, userId, true);
      return answer(caller, userId, 'The account is active again');
    },
    async delete(caller, userId, confirmEmail) {
      const deleted = await accounts.delete(caller.actor, userId, confirmEmail);
      return { ok: true, message: `The account ${confirmEmail} and its data are deleted`, deleted };
    },
  };
}
