import { z } from 'zod';

import {
  ApiKeyScopes,
  ZAdminApiKeyList,
  ZApiKeyIdInput,
  ZApiKeyList,
  ZCreateApiKeyInput,
  ZCreatedApiKey,
  ZListAdminApiKeysInput,
  ZRevokeApiKeyResult,
} from '@gen3d/shared';

import { authedProcedure, router, withRole } from '../../trpc/trpc.js';

const tags = ['api-keys'];
const SIGNED_IN_ONLY = ' Needs a signed-in session: API keys cannot manage keys (403 API_KEY_NOT_ALLOWED).';

/** A user's own API keys. No procedure here declares an `apiKeyScope`: a key never manages keys. */
export const apiKeysRouter = router({
  create: authedProcedure
    .meta({
      openapi: {
        method: 'POST',
        path: '/keys',
        tags,
        summary: 'Create an API key with scopes; the key is in this answer only',
        description: `Send it as \`Authorization: Bearer <key>\` on REST and tRPC calls its scopes allow (${ApiKeyScopes.join(', ')}). Only a hash is stored: lose it and create another.${SIGNED_IN_ONLY}`,
        protect: true,
      },
      successStatus: 201,
      errorCodes: ['QUOTA_EXCEEDED'],
    })
    .input(ZCreateApiKeyInput)
    .output(ZCreatedApiKey)
    .mutation(({ ctx, input }) => ctx.services.apiKeys.create(ctx.actor, ctx.user.id, input)),

  list: authedProcedure
    .meta({
      openapi: {
        method: 'GET',
        path: '/keys',
        tags,
        summary: 'Your API keys: name, prefix, scopes, creation, expiry and last use (never the key)',
        description: `Last use is recorded at most once a minute per key.${SIGNED_IN_ONLY}`,
        protect: true,
      },
    })
    .input(z.void())
    .output(ZApiKeyList)
    .query(async ({ ctx }) => ({ keys: await ctx.services.apiKeys.listOwn(ctx.user.id) })),

  revoke: authedProcedure
    .meta({
      openapi: {
        method: 'DELETE',
        path: '/keys/{id}',
        tags,
        summary: 'Revoke one of your API keys; it stops working at once',
        description: SIGNED_IN_ONLY.trim(),
        protect: true,
      },
    })
    .input(ZApiKeyIdInput)
    .output(ZRevokeApiKeyResult)
    .mutation(async ({ ctx, input }) => {
      await ctx.services.apiKeys.revokeOwn(ctx.actor, ctx.user.id, input.id);
      return { ok: true as const, message: 'The API key is revoked' };
    }),
});

/** Every user's API keys, for admins (`admin.keys`). */
export const adminApiKeysRouter = router({
  list: withRole('admin')
    .meta({
      openapi: {
        method: 'GET',
        path: '/admin/keys',
        tags: ['admin'],
        summary: 'API keys of every user, or of one (userId), newest first, with their owner (admins)',
        protect: true,
      },
    })
    .input(ZListAdminApiKeysInput)
    .output(ZAdminApiKeyList)
    .query(({ ctx, input }) => ctx.services.apiKeys.listAll(input)),

  revoke: withRole('admin')
    .meta({
      openapi: {
        method: 'DELETE',
        path: '/admin/keys/{id}',
        tags: ['admin'],
        summary: "Revoke any user's API key (admins); it stops working at once",
        protect: true,
      },
    })
    .input(ZApiKeyIdInput)
    .output(ZRevokeApiKeyResult)
    .mutation(async ({ ctx, input }) => {
      await ctx.services.apiKeys.revokeAny(ctx.actor, input.id);
      return { ok: true as const, message: 'The API key is revoked' };
    }),
});
