import { initTRPC, TRPCError } from '@trpc/server';
import type { OpenApiMeta } from 'trpc-to-openapi';

import { ErrorCatalogue, type TApiKeyScope, type TErrorCode, type TRole } from '@gen3d/shared';

import { DomainError, Forbidden, RateLimited } from '../domain-errors.js';
import type { RateKey, RateLimiter } from '../infra/rate-limiter.js';
import { presentedApiKey } from '../modules/api-keys/key-format.js';
import type { UsedApiKey } from '../modules/api-keys/service.js';
import type { Actor } from '../modules/audit/audit-log.js';
import type { AuthenticatedUser } from '../modules/auth/session-service.js';
import type { RequestContext } from './context.js';
import { formatError } from './error-formatter.js';

/**
 * What an API key needs to call a procedure: one scope, or `any-key` for public information any key may
 * read. A procedure that declares nothing refuses every key (API_KEY_NOT_ALLOWED), so a procedure nobody
 * classified is closed to keys, never open.
 */
export type ApiKeyAccess = TApiKeyScope | 'any-key';

/**
 * OpenAPI projection meta, plus the HTTP status of a successful REST call when it is not 200, error codes
 * the document cannot tell from the operation's inputs and protection, and what an API key needs to call
 * it (`apiKeyScope`; none: keys are refused). `openapi.operationId` stays unset: the REST projection finds
 * a procedure's meta by the id trpc-to-openapi derives from its path.
 */
export type AppMeta = OpenApiMeta<{
  successStatus?: 201;
  errorCodes?: TErrorCode[];
  apiKeyScope?: ApiKeyAccess;
}>;

const t = initTRPC
  .context<RequestContext>()
  .meta<AppMeta>()
  .create({
    // Stack traces never leave the server, whatever NODE_ENV says.
    isDev: false,
    errorFormatter: ({ error, shape, ctx }) => formatError({ error, shape, requestId: ctx?.requestId }),
    sse: {
      ping: { enabled: true, intervalMs: 15_000 },
      client: { reconnectAfterInactivityMs: 30_000 },
    },
  });

export const router = t.router;
export const createCallerFactory = t.createCallerFactory;

/** The tRPC error of a domain error: its code (and so its HTTP status), message and cause. */
function trpcErrorOf(cause: DomainError): TRPCError {
  return new TRPCError({ code: ErrorCatalogue[cause.code].trpcCode, message: cause.message, cause });
}

/** A subscription's events; a domain error raised while it streams (after the middleware) is mapped the same way. */
export async function* withDomainErrors<T>(events: AsyncIterable<T>): AsyncGenerator<T> {
  try {
    yield* events;
  } catch (error) {
    throw error instanceof DomainError ? trpcErrorOf(error) : error;
  }
}

/**
 * Every procedure's first middleware (one, not two: each layer copies the call's options and context):
 * an API key presented to a procedure that declares no `apiKeyScope` is refused before anything else
 * runs, and domain errors thrown by services become tRPC errors with the matching code (and HTTP status).
 */
const baseChecks = t.middleware(async ({ ctx, meta, next }) => {
  if (meta?.apiKeyScope === undefined && presentedApiKey(ctx.authorization) !== undefined)
    throw trpcErrorOf(
      new DomainError(
        'API_KEY_NOT_ALLOWED',
        'API keys cannot do this (account, session, key and admin operations); sign in with your password instead',
      ),
    );
  const result = await next();
  if (!result.ok && result.error.cause instanceof DomainError) throw trpcErrorOf(result.error.cause);
  return result;
});

export const baseProcedure = t.procedure.use(baseChecks);
export const publicProcedure = baseProcedure;

/** The caller behind the Authorization header: an API key's owner (checked for the procedure's scope), or a session's user. */
async function authenticate(
  ctx: RequestContext,
  access: ApiKeyAccess | undefined,
): Promise<{ user: AuthenticatedUser; apiKey: UsedApiKey | null }> {
  const key = presentedApiKey(ctx.authorization);
  if (key === undefined)
    return { user: await ctx.services.sessions.authenticate(ctx.authorization), apiKey: null };
  const device = { ip: ctx.ip, addressKey: ctx.addressKey, userAgent: ctx.userAgent };
  const caller = await ctx.services.apiKeys.authenticate(key, device);
  // keysOnlyWhereDeclared has refused keys where nothing is declared; undefined is refused again here.
  if (access === undefined) throw new DomainError('API_KEY_NOT_ALLOWED');
  if (access !== 'any-key' && !caller.key.scopes.includes(access))
    throw new DomainError('MISSING_SCOPE', `This needs an API key with the ${access} scope`);
  return { user: caller.user, apiKey: caller.key };
}

/**
 * Procedures for signed-in users: `ctx.user` is the caller, loaded fresh from the database, and
 * `ctx.actor` the same caller as the audit log names them (with address and user agent). `ctx.apiKey` is
 * the key the call was made with (null for a session); a key's caller has no staff role.
 */
export const authedProcedure = baseProcedure.use(async ({ ctx, meta, next }) => {
  const { user, apiKey } = await authenticate(ctx, meta?.apiKeyScope);
  const actor: Actor = {
    userId: user.id,
    email: user.email,
    via: 'api',
    ip: ctx.ip,
    userAgent: ctx.userAgent ?? null,
  };
  return next({ ctx: { user, actor, apiKey } });
});

/** Procedures for callers holding at least one of `roles`. */
export function withRole(...roles: TRole[]) {
  return authedProcedure.use(({ ctx, next }) => {
    if (!roles.some((role) => ctx.user.roles.includes(role)))
      throw new Forbidden(`This needs the ${roles.join(' or ')} role`);
    return next();
  });
}

function emailOf(input: unknown): string | undefined {
  if (input === null || typeof input !== 'object' || !('email' in input)) return undefined;
  return typeof input.email === 'string' ? input.email.trim().toLowerCase() : undefined;
}

function userIdOf(ctx: RequestContext): string | undefined {
  return 'user' in ctx && ctx.user !== null && typeof ctx.user === 'object' && 'id' in ctx.user
    ? String(ctx.user.id)
    : undefined;
}

/** Counts the call against `pick(limits)`, keyed by client address and by the account (signed in) or the input's email. */
export function withRateLimit(pick: (limits: RequestContext['services']['limits']) => RateLimiter) {
  return t.middleware(async ({ ctx, next, getRawInput }) => {
    const userId = userIdOf(ctx);
    const email = userId ? undefined : emailOf(await getRawInput().catch(() => undefined));
    const account = userId ? `user:${userId}` : email ? `email:${email}` : undefined;
    const keys: RateKey[] = [
      { kind: 'address', id: ctx.addressKey },
      ...(account ? [{ kind: 'account' as const, id: account }] : []),
    ];
    const decision = await pick(ctx.services.limits).hit(keys);
    if (!decision.allowed)
      throw new RateLimited(
        decision.retryAfterSeconds,
        `Too many attempts; retry in ${decision.retryAfterSeconds} s`,
      );
    return next();
  });
}
