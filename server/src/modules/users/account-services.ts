import type { FastifyBaseLogger } from 'fastify';
import type { Redis } from 'ioredis';
import type { Connection } from 'mongoose';

import type { Config } from '../../config.js';
import { createAccessTokens, type AccessTokens } from '../../infra/access-tokens.js';
import { createMemoryRateLimiter, createRedisRateLimiter } from '../../infra/rate-limiter.js';
import { createAuditLog, type AuditLog } from '../audit/audit-log.js';
import { auditEventModel } from '../audit/model.js';
import { authModels, authOwnedData } from '../auth/model.js';
import { createSessionService } from '../auth/session-service.js';
import { createAccountReader } from './account-reader.js';
import { userModel } from './model.js';
import type { OwnedData } from './owned-data.js';
import { createUserServices } from './user-services.js';

/** The account services on a mongoose connection; `ownedData` lists what else goes when an account is deleted. */
export function buildAccountServices(
  connection: Connection,
  config: Config,
  log: FastifyBaseLogger,
  options: {
    ownedData?: OwnedData[];
    redis?: Redis | undefined;
    audit?: AuditLog;
    accessTokens?: AccessTokens;
  } = {},
) {
  const users = userModel(connection);
  const models = authModels(connection);
  const audit = options.audit ?? createAuditLog(auditEventModel(connection), log);
  const { loginFailureThreshold } = config.audit;
  const failureWindowMs = config.authRateLimit.windowMs;
  // Failed logins are counted per account only.
  const failureLimits = { account: loginFailureThreshold, address: loginFailureThreshold };
  const sessions = createSessionService({
    users,
    accounts: createAccountReader(users),
    models,
    accessTokens:
      options.accessTokens ?? createAccessTokens(config.jwtSecret, config.auth.accessTokenTtlSeconds),
    accessTokenTtlSeconds: config.auth.accessTokenTtlSeconds,
    refreshTokenTtlDays: config.auth.refreshTokenTtlDays,
    refreshReuseGraceSeconds: config.auth.refreshReuseGraceSeconds,
    log,
    audit,
    loginFailures: options.redis
      ? createRedisRateLimiter(options.redis, 'login-failures', failureLimits, failureWindowMs)
      : createMemoryRateLimiter(failureLimits, failureWindowMs),
    loginFailureThreshold,
  });
  const userServices = createUserServices(
    users,
    sessions,
    [...(options.ownedData ?? []), ...authOwnedData(models)],
    audit,
  );
  return { userRecords: users, models, sessions, users: userServices, audit };
}
