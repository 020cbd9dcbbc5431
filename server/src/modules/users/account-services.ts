import type { FastifyBaseLogger } from 'fastify';
import type { Redis } from 'ioredis';
import type { Connection } from 'mongoose';

import type { Config } from '../../config.js';
import { createAccessTokens, type AccessTokens } from '../../infra/access-tokens.js';
import { createAuditLog, type AuditLog } from '../audit/audit-log.js';
import { auditEventModel } from '../audit/model.js';
import { createGuessLimits } from '../auth/guess-limits.js';
import { authModels, authOwnedData } from '../auth/model.js';
import { createSessionService } from '../auth/session-service.js';
import { createAccountReader } from './account-reader.js';
import { userModel } from './model.js';
import type { OwnedData } from './owned-data.js';
import { createUserServices } from './user-services.js';

/** Wrong verification codes a pending registration may take, across re-sent codes, before it is locked. */
const MAX_WRONG_CODES = 5;

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
  const guesses = createGuessLimits({
    models,
    users,
    audit,
    log,
    thresholds: { password: config.accountProtection.lockoutThreshold, code: MAX_WRONG_CODES },
    lockoutMs: config.accountProtection.lockoutMs,
  });
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
    guesses,
  });
  const userServices = createUserServices(
    users,
    sessions,
    [...(options.ownedData ?? []), ...authOwnedData(models)],
    audit,
    config.accountProtection.passwordMinScore,
  );
  return { userRecords: users, models, sessions, users: userServices, audit, guesses };
}
