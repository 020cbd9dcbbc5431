import { parseArgs } from 'node:util';

import { z } from 'zod';

import { ZEmail, ZRole } from '@gen3d/shared';

import { runAdminTask, UsageError } from './lib/admin-session.js';

const USAGE = `usage: pnpm set-roles --email <email> --roles <role,role,...>
Replaces the roles of an account. Roles: user, moderator, admin. The last active admin keeps admin.`;

await runAdminTask(USAGE, async ({ users: { accounts } }, { actor }) => {
  const { values } = parseArgs({ options: { email: { type: 'string' }, roles: { type: 'string' } } });
  const email = ZEmail.safeParse(values.email);
  if (!email.success) throw new UsageError('--email must be a valid email address');
  const roles = z
    .array(ZRole)
    .min(1)
    .safeParse(
      values.roles
        ?.split(',')
        .map((role) => role.trim())
        .filter(Boolean),
    );
  if (!roles.success) throw new UsageError('--roles must list one or more of user, moderator, admin');
  const userId = await accounts.idOfEmail(email.data);
  await accounts.setRoles(actor, userId, roles.data);
  return `${email.data} now has the roles: ${[...new Set(roles.data)].join(', ')}`;
});
