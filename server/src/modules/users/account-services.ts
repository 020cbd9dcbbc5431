import type { FastifyBaseLogger } from 'fastify';
import type { Redis } from 'ioredis';
import type { Connection } from 'mongoose';

import type { Config } from '../../config.js';
import { createAccessTokens, type AccessTokens } from '../../infra/access-tokens.js';
import { derivedKey } from '../../infra/derived-keys.js';
import { apiKeyModel, apiKeysOwnedData } from '../api-keys/model.js';
import { createApiKeyService } from '../api-keys/service.js';
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
  const accounts = createAccountReader(users);
  const sessions = createSessionService({
    users,
    accounts,
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
  const apiKeyRecords = apiKeyModel(connection);
  const apiKeys = createApiKeyService({
    keys: apiKeyRecords,
    users,
    accounts,
    audit,
    pepper: derivedKey(config.jwtSecret, 'api-keys'),
    maxPerUser: config.apiKeys.perUserMax,
  });
  const userServices = createUserServices(
    users,
    { sessions, apiKeys },
    [...(options.ownedData ?? []), ...authOwnedData(models), apiKeysOwnedData(apiKeyRecords)],
    audit,
    config.accountProtection.passwordMinScore,
  );
  return { userRecords: users, models, sessions, apiKeys, users: userServices, audit, guesses };
}
