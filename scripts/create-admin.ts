import { parseArgs } from 'node:util';

import { ZEmail, ZPassword, ZUserName } from '@gen3d/shared';

import { runAdminTask, UsageError } from './lib/admin-session.js';
import { promptSecret } from './lib/prompt.js';

const USAGE = `usage: pnpm create-admin --email <email> [--password <password>] [--name <user name>]
Creates a verified admin account, or makes an existing account an active admin. Without --password
it is asked for (or read from standard input).`;

await runAdminTask(USAGE, async ({ users: { accounts } }, { actor }) => {
  const { values } = parseArgs({
    options: { email: { type: 'string' }, password: { type: 'string' }, name: { type: 'string' } },
  });
  const email = ZEmail.safeParse(values.email);
  if (!email.success) throw new UsageError('--email must be a valid email address');
  const fromEmail = (email.data.split('@')[0] ?? '').replace(/[^\p{L}\p{N}_.\- ]/gu, '').slice(0, 40);
  const userName = ZUserName.safeParse(values.name ?? (fromEmail.length >= 2 ? fromEmail : 'admin'));
  if (!userName.success)
    throw new UsageError('--name must be 2-40 letters, digits, spaces, dots, dashes or underscores');
  const existing = await accounts.idOfEmail(email.data).catch(() => undefined);
  if (existing) {
    await accounts.setRoles(actor, existing, ['user', 'admin']);
    await accounts.setActive(actor, existing, true);
    return `${email.data} already had an account; it is now an active admin (password unchanged)`;
  }
  const password = ZPassword.safeParse(
    values.password ?? (await promptSecret('Password for the new admin: ')),
  );
  if (!password.success) throw new UsageError('the password must be 8 to 256 characters');
  await accounts.create(actor, {
    email: email.data,
    userName: userName.data,
    password: password.data,
    roles: ['user', 'admin'],
  });
  return `created admin ${email.data}`;
});
