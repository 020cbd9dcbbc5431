import type { AuditLog } from '../audit/audit-log.js';
import {
  createAccountAdminService,
  type AccountAdminService,
  type AccountCredentials,
} from './account-admin-service.js';
import { createUserDirectory, type UserDirectory } from './directory-service.js';
import type { UserModel } from './model.js';
import type { OwnedData } from './owned-data.js';
import { createProfileService, type ProfileService } from './profile-service.js';

/** The users module's services, one job each. */
export interface UserServices {
  /** Finding and reading users. */
  directory: UserDirectory;
  /** Changes to a user's name, profile and settings (PATCH /users/{id} included). */
  profiles: ProfileService;
  /** Audited account changes by admins and admin scripts. */
  accounts: AccountAdminService;
}

/** Wires the users services; `ownedData` lists what goes with an account when it is deleted. */
export function createUserServices(
  users: UserModel,
  credentials: AccountCredentials,
  ownedData: OwnedData[],
  audit: AuditLog,
  passwordMinScore: number,
): UserServices {
  const directory = createUserDirectory(users);
  const accounts = createAccountAdminService(users, credentials, ownedData, audit, passwordMinScore);
  return { directory, accounts, profiles: createProfileService(users, directory, accounts) };
}
