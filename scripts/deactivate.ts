import { parseArgs } from 'node:util';

import { ZEmail } from '@gen3d/shared';

import { runAdminTask, UsageError } from './lib/admin-session.js';

const USAGE = `usage: pnpm deactivate --email <email> [--reactivate]
Deactivates an account (it can no longer log in, and its sessions end at once), or reactivates it.`;

await runAdminTask(USAGE, async ({ users: { accounts } }, { actor }) => {
  const { values } = parseArgs({
    options: { email: { type: 'string' }, reactivate: { type: 'boolean', default: false } },
  });
  const email = ZEmail.safeParse(values.email);
  if (!email.success) throw new UsageError('--email must be a valid email address');
  const userId = await accounts.idOfEmail(email.data);
  await accounts.setActive(actor, userId, values.reactivate === true);
  return values.reactivate
    ? `${email.data} is active again`
    : `${email.data} is deactivated and logged out everywhere`;
});
