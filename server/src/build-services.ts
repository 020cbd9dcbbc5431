import type { FastifyBaseLogger, FastifyInstance } from 'fastify';
import type { Connection } from 'mongoose';
import type { Config } from './config.js';
import { createAccessTokens } from './infra/access-tokens.js';
import { createMailer } from './infra/mailer.js';
import { createMemoryRateLimiter, createRedisRateLimiter } from './infra/rate-limiter.js';
import type { Redis } from 'ioredis';
import { authModels, authOwnedData } from './modules/auth/model.js';
import { createPasswordService } from './modules/auth/password-service.js';
import { createRegistrationService } from './modules/auth/registration-service.js';
import { createSessionService } from './modules/auth/session-service.js';
import { createSystemService } from './modules/system/service.js';
import { userModel } from './modules/users/model.js';
import { createAccountReader } from './modules/users/account-reader.js';
import { createAccountAdminService } from './modules/users/account-admin-service.js';
import { createProfileService } from './modules/users/profile-service.js';
import { createUsersService } from './modules/users/service.js';
import type { AppServices } from './services.js';
import { SERVER_VERSION } from './version.js';

/** The account services on a mongoose connection: what the HTTP app and the admin scripts share. */
export function buildAccountServices(connection: Connection, config: Config, log: FastifyBaseLogger) {
  const users = userModel(connection);
  const models = authModels(connection);
  const sessions = createSessionService({
    users,
    accounts: createAccountReader(users),
    models,
    accessTokens: createAccessTokens(config.jwtSecret, config.auth.accessTokenTtlSeconds),
    refreshTokenTtlDays: config.auth.refreshTokenTtlDays,
    log,
  });
  return { users, models, sessions, accounts: createAccountAdminService(users, sessions, authOwnedData(models)) };
}

/** Wires every service to the app's database connection, mailer and configuration; the mailer closes with the app. */
export function buildServices(app: FastifyInstance, config: Config, startedAt: Date, redis: Redis | undefined): AppServices {
  const log = app.log;
  const { users, models, sessions, accounts } = buildAccountServices(app.database.connection, config, log);
  const mailer = createMailer(config.mail, log);
  app.addHook('onClose', async () => mailer.close());
  const { max, windowMs } = config.authRateLimit;
  const authLimiter = (name: string) => (redis ? createRedisRateLimiter(redis, name, max, windowMs) : createMemoryRateLimiter(max, windowMs));
  return {
    system: createSystemService({
      version: SERVER_VERSION,
      startedAt,
      databaseKind: app.database.kind,
      isDatabaseReachable: () => app.database.isReachable(),
    }),
    registration: createRegistrationService({ users, models, mailer, codePepper: config.jwtSecret, log }),
    sessions,
    passwords: createPasswordService({ users, models, mailer, sessions, appUrl: config.appUrl, log }),
    profiles: createProfileService(users),
    users: createUsersService(users, accounts),
    accounts,
    limits: {
      register: authLimiter('register'),
      verify: authLimiter('verify'),
      login: authLimiter('login'),
      refresh: authLimiter('refresh'),
      passwordReset: authLimiter('password-reset'),
    },
  };
}
