import { z } from 'zod';

import { ZObjectId } from './auth.js';
import { queryInteger, ZPage } from './query-params.js';
import { ZPagination } from './users.js';

/**
 * What an API key may be granted. Each procedure a key may call declares the one scope it needs; a key
 * never reaches account management (password, email, profile, sessions, keys) nor admin procedures.
 * Messages belong to the chats scopes; the caller's own analytics to `analytics:read`; webhook endpoints
 * and their deliveries to the webhooks scopes.
 */
export const ApiKeyScopes = [
  'jobs:read',
  'jobs:write',
  'assets:read',
  'assets:write',
  'chats:read',
  'chats:write',
  'analytics:read',
  'webhooks:read',
  'webhooks:write',
] as const;
export const ZApiKeyScope = z.enum(ApiKeyScopes);
export type TApiKeyScope = z.infer<typeof ZApiKeyScope>;

export const ZApiKeyName = z.string().trim().min(1, 'must not be empty').max(100);

export const ZCreateApiKeyInput = z.strictObject({
  name: ZApiKeyName.describe('What the key is for, e.g. "render farm"'),
  scopes: z
    .array(ZApiKeyScope)
    .min(1, 'must grant at least one scope')
    .max(ApiKeyScopes.length)
    .transform((scopes) => [...new Set(scopes)])
    .describe('What the key may do'),
  expiresAt: z.iso
    .datetime({ offset: true })
    .refine((at) => Date.parse(at) > Date.now(), 'must be in the future')
    .optional()
    .describe('ISO 8601 date-time after which the key stops working; never, when absent'),
});
export type TCreateApiKeyInput = z.input<typeof ZCreateApiKeyInput>;

/** A key as its owner sees it: never its secret nor its hash. */
export const ZApiKey = z.object({
  id: z.string(),
  name: z.string(),
  prefix: z.string().describe('The public start of the key (g3d_ and its public id), to recognise it'),
  scopes: z.array(ZApiKeyScope),
  createdAt: z.string(),
  expiresAt: z.string().nullable(),
  lastUsedAt: z.string().nullable().describe('Updated at most once a minute'),
  lastUsedIp: z.string().nullable(),
});
export type TApiKey = z.infer<typeof ZApiKey>;

export const ZCreatedApiKey = ZApiKey.extend({
  key: z.string().describe('The whole key: shown this once, stored only as a hash'),
});
export type TCreatedApiKey = z.infer<typeof ZCreatedApiKey>;

export const ZApiKeyList = z.object({ keys: z.array(ZApiKey) });
export const ZApiKeyIdInput = z.strictObject({ id: ZObjectId });
export const ZRevokeApiKeyResult = z.object({ ok: z.literal(true), message: z.string() });

/** A key as admins see it: with its owner. */
export const ZAdminApiKey = ZApiKey.extend({ ownerId: z.string(), ownerEmail: z.string().nullable() });
export type TAdminApiKey = z.infer<typeof ZAdminApiKey>;

export const ZListAdminApiKeysInput = z.strictObject({
  userId: ZObjectId.optional().describe("Only this user's keys"),
  page: ZPage,
  limit: queryInteger(1, 100).default(50),
});
export const ZAdminApiKeyList = z.object({ keys: z.array(ZAdminApiKey), pagination: ZPagination });
export type TAdminApiKeyList = z.infer<typeof ZAdminApiKeyList>;
