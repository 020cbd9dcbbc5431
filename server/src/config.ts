import { randomBytes } from 'node:crypto';
import { resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

import { z } from 'zod';

import { parseTrustedProxies, type TrustedProxies } from './http/trusted-proxies.js';
import type { RateLimits } from './infra/rate-limiter.js';

// The demo package's build output; the same relative place from server/src and from a compiled server/dist.
const BUILT_DEMO_DIR = fileURLToPath(new URL('../../demo/dist', import.meta.url));

const WEAK_SECRETS = new Set(['change-me', 'changeme', 'secret', 'please-change-this-secret-in-production']);

/** An absolute URL, kept without a trailing slash so paths can be appended. */
const baseUrl = z.url().transform((url) => url.replace(/\/$/, ''));

const booleanFromEnv = z
  .enum(['true', 'false', '1', '0', 'yes', 'no'])
  .transform((value) => value === 'true' || value === '1' || value === 'yes');

/** Every setting, its type and its default; `.env.example` documents the same list. */
export const EnvSchema = z.object({
  NODE_ENV: z.enum(['development', 'production', 'test']).default('development'),
  HOST: z.string().min(1).default('127.0.0.1'),
  PORT: z.coerce.number().int().min(0).max(65535).default(3000),
  PUBLIC_URL: baseUrl.optional(),
  TRUST_PROXY: z
    .string()
    .default('false')
    .transform((setting, context) => {
      const parsed = parseTrustedProxies(setting);
      if (parsed.ok) return parsed.value;
      context.addIssue({ code: 'custom', message: parsed.message });
      return z.NEVER;
    }),
  MONGODB_URI: z
    .string()
    .regex(/^mongodb(\+srv)?:\/\//, 'must be a mongodb:// or mongodb+srv:// connection string')
    .optional(),
  DATA_DIR: z.string().default('.data'),
  DEMO_DIR: z.string().optional(),
  EMBEDDED_DB_PORT: z.coerce.number().int().min(0).max(65535).default(0),
  JWT_SECRET: z.string().optional(),
  CORS_ORIGINS: z.string().optional(),
  RATE_LIMIT_MAX: z.coerce.number().int().positive().default(300),
  RATE_LIMIT_WINDOW_MS: z.coerce.number().int().positive().default(60_000),
  AUTH_RATE_LIMIT_MAX: z.coerce.number().int().positive().default(10),
  AUTH_RATE_LIMIT_IP_MAX: z.coerce.number().int().positive().optional(),
  AUTH_RATE_LIMIT_WINDOW_MS: z.coerce.number().int().positive().default(900_000),
  LOCKOUT_THRESHOLD: z.coerce.number().int().min(1).max(100).default(10),
  LOCKOUT_DURATION_MS: z.coerce.number().int().min(1000).default(900_000),
  AUTH_EMAIL_COOLDOWN_MS: z.coerce.number().int().min(0).default(60_000),
  PASSWORD_MIN_SCORE: z.coerce.number().int().min(0).max(4).default(2),
  AUDIT_RETENTION_DAYS: z.coerce.number().int().min(1).max(3650).default(365),
  BODY_LIMIT_BYTES: z.coerce.number().int().positive().default(1_048_576),
  BODY_MAX_DEPTH: z.coerce.number().int().min(4).max(256).default(32),
  BODY_MAX_ARRAY_ITEMS: z.coerce.number().int().min(10).default(1_000),
  TRPC_MAX_BATCH_SIZE: z.coerce.number().int().min(1).max(100).default(10),
  STREAMS_MAX_PER_USER: z.coerce.number().int().min(1).default(10),
  STREAMS_MAX_PER_ADDRESS: z.coerce.number().int().min(1).default(100),
  USER_MAX_CHATS: z.coerce.number().int().min(1).default(500),
  USER_MAX_MESSAGES: z.coerce.number().int().min(1).default(5_000),
  USER_MAX_ASSET_MB: z.coerce.number().int().min(1).default(1_024),
  API_KEYS_PER_USER_MAX: z.coerce.number().int().min(1).max(1_000).default(20),
  METRICS_TOKEN: z
    .string()
    .regex(/^[\x21-\x7e]{16,}$/, 'must be at least 16 printable characters without spaces')
    .optional(),
  LOG_LEVEL: z.enum(['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent']).default('info'),
  LOG_DIR: z.string().optional(),
  LOG_RETENTION_DAYS: z.coerce.number().int().positive().default(14),
  SHUTDOWN_TIMEOUT_MS: z.coerce.number().int().positive().default(10_000),
  ACCESS_TOKEN_TTL_SECONDS: z.coerce.number().int().min(30).max(86_400).default(900),
  REFRESH_TOKEN_TTL_DAYS: z.coerce.number().int().min(1).max(365).default(7),
  REFRESH_REUSE_GRACE_SECONDS: z.coerce.number().int().min(0).max(60).default(0),
  SMTP_URL: z
    .string()
    .regex(/^smtps?:\/\//, 'must be an smtp:// or smtps:// URL')
    .optional(),
  MAIL_FROM: z.string().min(3).default('gen3d <no-reply@localhost>'),
  MAIL_OUTBOX_IN_PRODUCTION: booleanFromEnv.default(false),
  APP_URL: baseUrl.optional(),
  REDIS_URL: z
    .string()
    .regex(/^rediss?:\/\//, 'must be a redis:// or rediss:// URL')
    .optional(),
  ASSET_STORAGE: z.enum(['local', 'gridfs']).default('local'),
  ASSETS_DIR: z.string().optional(),
  ASSET_URL_TTL_SECONDS: z.coerce
    .number()
    .int()
    .min(10)
    .max(7 * 86_400)
    .default(3600),
  ASSET_MAX_BYTES: z.coerce
    .number()
    .int()
    .positive()
    .default(100 * 1024 * 1024),
  ASSET_SOURCE_ALLOWED_HOSTS: z.string().optional(),
  IMAGE_MAX_BYTES: z.coerce
    .number()
    .int()
    .positive()
    .default(10 * 1024 * 1024),
  IMAGE_MAX_DIMENSION: z.coerce.number().int().min(32).max(65_535).default(8_192),
  IMAGE_MAX_PIXELS: z.coerce.number().int().min(1_024).default(16_777_216),
  MESH_WORKERS: z.coerce.number().int().min(1).max(64).default(2),
  MESH_TASK_TIMEOUT_MS: z.coerce.number().int().positive().default(30_000),
  MESH_WORKER_MEMORY_MB: z.coerce.number().int().min(64).max(16_384).default(512),
  MESH_MAX_DECODED_MB: z.coerce.number().int().min(1).max(16_384).default(256),
  MODEL_SERVER_URL: baseUrl.optional(),
  MODEL_SERVER_PORT: z.coerce.number().int().min(0).max(65535).default(0),
  MODEL_SERVER_DURATION_MS: z.coerce.number().int().min(0).default(3000),
  MODEL_SERVER_CONNECT_TIMEOUT_MS: z.coerce.number().int().positive().default(5000),
  MODEL_SERVER_RESPONSE_TIMEOUT_MS: z.coerce.number().int().positive().default(30_000),
  MODEL_SERVER_POLL_INTERVAL_MS: z.coerce.number().int().positive().default(250),
  DEFAULT_MODEL_SERVER: z.enum(['reference', 'shap-e', 'hunyuan3d', 'meshy']).default('reference'),
  SHAP_E_URL: baseUrl.optional(),
  SHAP_E_TIMEOUT_MS: z.coerce.number().int().positive().default(600_000),
  HUNYUAN3D_URL: baseUrl.optional(),
  HUNYUAN3D_DEADLINE_MS: z.coerce.number().int().positive().default(600_000),
  MESHY_API_KEY: z.string().min(1).optional(),
  MESHY_URL: baseUrl.default('https://api.meshy.ai'),
  JOB_TIMEOUT_MS: z.coerce
    .number()
    .int()
    .positive()
    .default(15 * 60_000),
  WORKER_CONCURRENCY: z.coerce.number().int().min(0).max(64).default(2),
  JOB_LEASE_MS: z.coerce.number().int().min(1000).default(30_000),
  JOB_POLL_INTERVAL_MS: z.coerce.number().int().min(50).default(500),
  JOB_WATCH_INTERVAL_MS: z.coerce.number().int().min(20).default(250),
  JOB_CANCEL_CHECK_MS: z.coerce.number().int().min(20).default(250),
  JOB_PROGRESS_INTERVAL_MS: z.coerce.number().int().min(20).default(200),
  JOB_MAX_ATTEMPTS: z.coerce.number().int().min(1).max(20).default(3),
  JOB_RETRY_BASE_MS: z.coerce.number().int().min(0).default(2000),
  JOB_RETRY_MAX_MS: z.coerce.number().int().min(0).default(60_000),
  JOBS_MAX_RUNNING_PER_USER: z.coerce.number().int().min(1).default(2),
  JOBS_DAILY_QUOTA: z.coerce.number().int().min(1).default(200),
  POSTPROCESS_DAILY_QUOTA: z.coerce.number().int().min(1).default(200),
  POSTPROCESS_MAX_TRIANGLES: z.coerce.number().int().min(1).default(2_000_000),
  JOB_ETA_SAMPLE_SIZE: z.coerce.number().int().min(1).max(1000).default(20),
  JOB_QUEUE_REFRESH_MS: z.coerce.number().int().min(100).default(2000),
  GENERATE_TIMEOUT_MS: z.coerce.number().int().positive().default(120_000),
  GENERATION_RATE_LIMIT_MAX: z.coerce.number().int().positive().default(30),
  GENERATION_RATE_LIMIT_IP_MAX: z.coerce.number().int().positive().optional(),
  GENERATION_RATE_LIMIT_WINDOW_MS: z.coerce.number().int().positive().default(60_000),
  WEBHOOK_ALLOWED_HOSTS: z.string().optional(),
  WEBHOOK_MAX_ENDPOINTS_PER_USER: z.coerce.number().int().min(1).max(1000).default(10),
  WEBHOOK_TIMEOUT_MS: z.coerce.number().int().min(100).max(120_000).default(10_000),
  WEBHOOK_RETRY_SCALE: z.coerce.number().positive().max(10).default(1),
  WEBHOOK_DISABLE_AFTER_FAILURES: z.coerce.number().int().min(1).max(1000).default(5),
  WEBHOOK_CONCURRENCY: z.coerce.number().int().min(0).max(64).default(4),
  WEBHOOK_POLL_INTERVAL_MS: z.coerce.number().int().min(20).default(1000),
});

export interface Config {
  readonly environment: 'development' | 'production' | 'test';
  readonly host: string;
  readonly port: number;
  readonly publicUrl: string;
  readonly trustProxy: TrustedProxies;
  /** Undefined: the embedded database is started. */
  readonly mongodbUri: string | undefined;
  /** Where the embedded database (and other local state) keeps its files. */
  readonly dataDir: string;
  /** The built demo page (`@gen3d/demo`'s dist), served at `/`. */
  readonly demoDir: string;
  readonly embeddedDbPort: number;
  readonly jwtSecret: string;
  /** Allowed browser origins; `true` reflects any origin (development only). */
  readonly corsOrigins: readonly string[] | true;
  readonly rateLimit: { readonly max: number; readonly windowMs: number };
  /** Attempts per window of each sensitive auth action, per account (or email) and per client address. */
  readonly authRateLimit: RateLimitConfig;
  /** Guessing caps across windows, emails per address, and password strength. */
  readonly accountProtection: AccountProtectionConfig;
  readonly audit: {
    /** Events older than this are removed (TTL index). */
    readonly retentionDays: number;
  };
  readonly bodyLimitBytes: number;
  /** JSON bodies nesting deeper or holding longer arrays are refused before any procedure reads them. */
  readonly jsonBodies: { readonly maxDepth: number; readonly maxArrayItems: number };
  /** Calls one tRPC batch request may carry; each counts against the limits as its own request. */
  readonly trpcMaxBatchSize: number;
  /** Live-progress streams this instance holds open at once, per user and per client address. */
  readonly streams: { readonly perUser: number; readonly perAddress: number };
  /** What one account may keep. */
  readonly storedObjects: {
    readonly maxChats: number;
    readonly maxMessages: number;
    readonly maxAssetBytes: number;
  };
  /** API keys one account may hold at once (QUOTA_EXCEEDED past it). */
  readonly apiKeys: { readonly perUserMax: number };
  /** When set, `/metrics` answers only `Authorization: Bearer <token>`; unset (never in production), it is open. */
  readonly metricsToken: string | undefined;
  readonly log: { readonly level: string; readonly dir: string | undefined; readonly retentionDays: number };
  readonly shutdownTimeoutMs: number;
  readonly auth: {
    readonly accessTokenTtlSeconds: number;
    readonly refreshTokenTtlDays: number;
    /** How long the refresh token just rotated out may be presented again (0: never). */
    readonly refreshReuseGraceSeconds: number;
  };
  readonly mail: { readonly smtpUrl: string | undefined; readonly from: string; readonly outboxDir: string };
  /** Base URL of the web app, for links in emails (password reset). */
  readonly appUrl: string;
  /** Shared rate-limit counters for several instances; in-process counters when undefined. */
  readonly redisUrl: string | undefined;
  readonly assets: {
    /** `local`: files under `dir`; `gridfs`: in the database, served by every instance. */
    readonly storage: 'local' | 'gridfs';
    readonly dir: string;
    readonly urlTtlSeconds: number;
    readonly maxFileBytes: number;
    /** Hosts a registered file's `sourceUrl` may name although they are not on the public internet. */
    readonly sourceAllowedHosts: readonly string[];
  };
  /** Caps on uploaded input images: file bytes, width or height, and pixels (checked before decoding). */
  readonly images: { readonly maxBytes: number; readonly maxDimension: number; readonly maxPixels: number };
  /** Mesh reading, validation and derivation on worker threads, each task within these budgets. */
  readonly meshes: {
    readonly threads: number;
    readonly taskTimeoutMs: number;
    readonly memoryMb: number;
    /** Bytes reading a GLB may allocate: accessor data (bufferless and sparse ones made whole) and meshes baked per instance. */
    readonly maxDecodedBytes: number;
  };
  /** The model servers jobs may choose (`params.modelServer`); `reference` is always there. */
  readonly modelServers: {
    readonly defaultName: 'reference' | 'shap-e' | 'hunyuan3d' | 'meshy';
    readonly reference: {
      /** Undefined: the reference model server is started in-process on `port`. */
      readonly url: string | undefined;
      readonly port: number;
      /** How long the in-process reference server takes per generation. */
      readonly durationMs: number;
    };
    /** Deadlines of every call to a model server, and how often a running task is polled. */
    readonly calls: {
      readonly connectTimeoutMs: number;
      readonly responseTimeoutMs: number;
      readonly pollIntervalMs: number;
    };
    readonly shapE: { readonly url: string; readonly generateTimeoutMs: number } | undefined;
    readonly hunyuan3d: { readonly url: string; readonly deadlineMs: number } | undefined;
    readonly meshy: { readonly url: string; readonly apiKey: string } | undefined;
  };
  readonly jobs: {
    /** Workers per instance; 0 makes an API-only instance. */
    readonly workerConcurrency: number;
    readonly leaseMs: number;
    readonly pollIntervalMs: number;
    readonly maxAttempts: number;
    readonly retryBaseMs: number;
    readonly retryMaxMs: number;
    /** The longest one attempt may take, model server included. */
    readonly timeoutMs: number;
    readonly maxRunningPerUser: number;
    readonly dailyQuota: number;
    /** Post-processing jobs per user per UTC day (a quota of their own, apart from `dailyQuota`). */
    readonly postprocessDailyQuota: number;
    /** The most triangles a post-processing job's source may have. */
    readonly postprocessMaxTriangles: number;
    /** How long `POST /api/generate` waits for its job. */
    readonly generateTimeoutMs: number;
    /** How often this instance reads job changes other instances made (live progress, cancels). */
    readonly watchIntervalMs: number;
    /** How far back each watch read reaches, so a change written with a slightly late clock is not missed. */
    readonly watchOverlapMs: number;
    /** How often a worker checks whether its running jobs were canceled. */
    readonly cancelCheckMs: number;
    /** The shortest interval between two progress writes of one running job. */
    readonly progressIntervalMs: number;
    /** How many of a model server's latest succeeded jobs give its typical run time (queue ETAs). */
    readonly etaSampleSize: number;
    /**
     * How long queue figures read from the database (run times, workers, running jobs) are reused, and how
     * often live streams re-read the positions of their queued jobs when this instance saw no queue change.
     */
    readonly queueRefreshMs: number;
  };
  /** Generation requests per window, per user and per client address. */
  readonly generationRateLimit: RateLimitConfig;
  readonly webhooks: WebhookConfig;
}

export interface WebhookConfig {
  /** Hosts endpoint URLs may name although they are not on the public internet (and may use http in production). */
  readonly allowedHosts: readonly string[];
  /** Production: endpoint URLs must be https unless their host is allowed. */
  readonly requireHttps: boolean;
  readonly maxEndpointsPerUser: number;
  /** The longest one delivery attempt may take, connecting included. */
  readonly timeoutMs: number;
  /** Multiplies the retry schedule (1: about a day); tests shrink it. */
  readonly retryScale: number;
  /** An endpoint is disabled after this many deliveries in a row used up their attempts. */
  readonly disableAfterFailures: number;
  /** Deliveries this instance sends at once; 0 sends none here. */
  readonly concurrency: number;
  /** How often idle delivery workers look for due deliveries. */
  readonly pollIntervalMs: number;
}

/** The settings, plus what was generated or defaulted that an operator should hear about. */
export interface LoadedConfig {
  config: Config;
  notices: string[];
}

/** Configuration that cannot start a server; the message names every bad variable. */
export class ConfigError extends Error {
  readonly problems: string[];

  constructor(problems: string[]) {
    super(`Invalid configuration:\n${problems.map((problem) => `  - ${problem}`).join('\n')}`);
    this.name = 'ConfigError';
    this.problems = problems;
  }
}

export interface AccountProtectionConfig {
  /** Consecutive wrong passwords for one email (login and change-password together) before it is locked. */
  readonly lockoutThreshold: number;
  /** How long a lock lasts; after it, one attempt at a time is judged until one succeeds. */
  readonly lockoutMs: number;
  /** At most one code, notice or reset email per address and kind in this time. */
  readonly emailCooldownMs: number;
  /** Lowest zxcvbn score (0-4) a new password may have. */
  readonly passwordMinScore: number;
}

export interface RateLimitConfig {
  readonly limits: RateLimits;
  readonly windowMs: number;
}

/** Many people can share one address, so unless told otherwise an address gets ten accounts' worth. */
function rateLimit(perAccount: number, perAddress: number | undefined, windowMs: number): RateLimitConfig {
  return { limits: { account: perAccount, address: perAddress ?? perAccount * 10 }, windowMs };
}

function commaList(raw: string | undefined): string[] | undefined {
  if (raw === undefined || raw.trim() === '') return undefined;
  return raw
    .split(',')
    .map((entry) => entry.trim())
    .filter(Boolean);
}

/** Reads the environment once; production refuses unsafe defaults, development fills them in. */
export function loadConfig(env: NodeJS.ProcessEnv = process.env): LoadedConfig {
  const parsed = EnvSchema.safeParse(env);
  if (!parsed.success) {
    throw new ConfigError(
      parsed.error.issues.map((issue) => {
        const name = String(issue.path[0] ?? 'environment');
        const value = env[name];
        const shown =
          value === undefined ||
          name === 'JWT_SECRET' ||
          name === 'SMTP_URL' ||
          name === 'REDIS_URL' ||
          name === 'MESHY_API_KEY' ||
          name === 'METRICS_TOKEN'
            ? ''
            : ` (got '${value}')`;
        return `${name}: ${issue.message}${shown}`;
      }),
    );
  }
  const vars = parsed.data;
  const production = vars.NODE_ENV === 'production';
  const problems: string[] = [];
  const notices: string[] = [];
  const origins = commaList(vars.CORS_ORIGINS);

  if (production) {
    if (!vars.MONGODB_URI)
      problems.push(
        'MONGODB_URI: required in production (the embedded database is for development and tests)',
      );
    if (!vars.JWT_SECRET) problems.push('JWT_SECRET: required in production');
    else if (vars.JWT_SECRET.length < 32 || WEAK_SECRETS.has(vars.JWT_SECRET)) {
      problems.push(
        'JWT_SECRET: must be at least 32 random characters in production (try: openssl rand -base64 48)',
      );
    }
    if (!origins)
      problems.push('CORS_ORIGINS: required in production, a comma-separated list of allowed origins');
    else if (origins.includes('*'))
      problems.push("CORS_ORIGINS: '*' is not allowed in production; list the origins");
    if (!vars.SMTP_URL && !vars.MAIL_OUTBOX_IN_PRODUCTION)
      problems.push(
        'SMTP_URL: required in production, so verification codes and reset links are mailed, not written to DATA_DIR/outbox (set MAIL_OUTBOX_IN_PRODUCTION=true to keep the outbox on purpose)',
      );
    if (!vars.METRICS_TOKEN)
      problems.push(
        'METRICS_TOKEN: required in production, so only your scraper reads /metrics (try: openssl rand -hex 32)',
      );
  } else if (vars.JWT_SECRET !== undefined && vars.JWT_SECRET.length < 32) {
    problems.push('JWT_SECRET: must be at least 32 characters');
  }
  const configuredModelServers = {
    reference: true,
    'shap-e': Boolean(vars.SHAP_E_URL),
    hunyuan3d: Boolean(vars.HUNYUAN3D_URL),
    meshy: Boolean(vars.MESHY_API_KEY),
  };
  if (!configuredModelServers[vars.DEFAULT_MODEL_SERVER]) {
    const needed = { 'shap-e': 'SHAP_E_URL', hunyuan3d: 'HUNYUAN3D_URL', meshy: 'MESHY_API_KEY' }[
      vars.DEFAULT_MODEL_SERVER as 'shap-e' | 'hunyuan3d' | 'meshy'
    ];
    problems.push(`DEFAULT_MODEL_SERVER: '${vars.DEFAULT_MODEL_SERVER}' is not configured; set ${needed}`);
  }
  if (problems.length > 0) throw new ConfigError(problems);

  let jwtSecret = vars.JWT_SECRET;
  if (!jwtSecret) {
    jwtSecret = randomBytes(48).toString('base64url');
    notices.push(
      'JWT_SECRET is not set: generated a random one for this run (tokens will not survive a restart)',
    );
  }
  if (!vars.MONGODB_URI)
    notices.push(
      `MONGODB_URI is not set: using the embedded database with data in ${resolve(vars.DATA_DIR, 'db')}`,
    );
  if (!origins) notices.push('CORS_ORIGINS is not set: any browser origin is allowed (development only)');
  if (!vars.MODEL_SERVER_URL)
    notices.push(
      `MODEL_SERVER_URL is not set: starting the reference model server (procedural shapes) on ${vars.MODEL_SERVER_PORT === 0 ? 'a free port' : `port ${vars.MODEL_SERVER_PORT}`}`,
    );
  if (!vars.SMTP_URL)
    notices.push(
      `SMTP_URL is not set: emails are written to ${resolve(vars.DATA_DIR, 'outbox')} instead of being sent`,
    );

  const config: Config = {
    environment: vars.NODE_ENV,
    host: vars.HOST,
    port: vars.PORT,
    publicUrl: vars.PUBLIC_URL ?? `http://localhost:${vars.PORT}`,
    trustProxy: vars.TRUST_PROXY,
    mongodbUri: vars.MONGODB_URI,
    dataDir: resolve(vars.DATA_DIR),
    demoDir: vars.DEMO_DIR ? resolve(vars.DEMO_DIR) : BUILT_DEMO_DIR,
    embeddedDbPort: vars.EMBEDDED_DB_PORT,
    jwtSecret,
    corsOrigins: origins && !origins.includes('*') ? origins : true,
    rateLimit: { max: vars.RATE_LIMIT_MAX, windowMs: vars.RATE_LIMIT_WINDOW_MS },
    authRateLimit: rateLimit(
      vars.AUTH_RATE_LIMIT_MAX,
      vars.AUTH_RATE_LIMIT_IP_MAX,
      vars.AUTH_RATE_LIMIT_WINDOW_MS,
    ),
    accountProtection: {
      lockoutThreshold: vars.LOCKOUT_THRESHOLD,
      lockoutMs: vars.LOCKOUT_DURATION_MS,
      emailCooldownMs: vars.AUTH_EMAIL_COOLDOWN_MS,
      passwordMinScore: vars.PASSWORD_MIN_SCORE,
    },
    audit: {
      retentionDays: vars.AUDIT_RETENTION_DAYS,
    },
    bodyLimitBytes: vars.BODY_LIMIT_BYTES,
    jsonBodies: { maxDepth: vars.BODY_MAX_DEPTH, maxArrayItems: vars.BODY_MAX_ARRAY_ITEMS },
    trpcMaxBatchSize: vars.TRPC_MAX_BATCH_SIZE,
    streams: { perUser: vars.STREAMS_MAX_PER_USER, perAddress: vars.STREAMS_MAX_PER_ADDRESS },
    storedObjects: {
      maxChats: vars.USER_MAX_CHATS,
      maxMessages: vars.USER_MAX_MESSAGES,
      maxAssetBytes: vars.USER_MAX_ASSET_MB * 2 ** 20,
    },
    apiKeys: { perUserMax: vars.API_KEYS_PER_USER_MAX },
    metricsToken: vars.METRICS_TOKEN,
    log: {
      level: vars.LOG_LEVEL,
      dir: vars.LOG_DIR ? resolve(vars.LOG_DIR) : undefined,
      retentionDays: vars.LOG_RETENTION_DAYS,
    },
    shutdownTimeoutMs: vars.SHUTDOWN_TIMEOUT_MS,
    auth: {
      accessTokenTtlSeconds: vars.ACCESS_TOKEN_TTL_SECONDS,
      refreshTokenTtlDays: vars.REFRESH_TOKEN_TTL_DAYS,
      refreshReuseGraceSeconds: vars.REFRESH_REUSE_GRACE_SECONDS,
    },
    mail: { smtpUrl: vars.SMTP_URL, from: vars.MAIL_FROM, outboxDir: resolve(vars.DATA_DIR, 'outbox') },
    redisUrl: vars.REDIS_URL,
    assets: {
      storage: vars.ASSET_STORAGE,
      dir: resolve(vars.ASSETS_DIR ?? resolve(vars.DATA_DIR, 'assets')),
      urlTtlSeconds: vars.ASSET_URL_TTL_SECONDS,
      maxFileBytes: vars.ASSET_MAX_BYTES,
      sourceAllowedHosts: commaList(vars.ASSET_SOURCE_ALLOWED_HOSTS) ?? [],
    },
    images: {
      maxBytes: vars.IMAGE_MAX_BYTES,
      maxDimension: vars.IMAGE_MAX_DIMENSION,
      maxPixels: vars.IMAGE_MAX_PIXELS,
    },
    meshes: {
      threads: vars.MESH_WORKERS,
      taskTimeoutMs: vars.MESH_TASK_TIMEOUT_MS,
      memoryMb: vars.MESH_WORKER_MEMORY_MB,
      maxDecodedBytes: vars.MESH_MAX_DECODED_MB * 2 ** 20,
    },
    modelServers: {
      defaultName: vars.DEFAULT_MODEL_SERVER,
      reference: {
        url: vars.MODEL_SERVER_URL,
        port: vars.MODEL_SERVER_PORT,
        durationMs: vars.MODEL_SERVER_DURATION_MS,
      },
      calls: {
        connectTimeoutMs: vars.MODEL_SERVER_CONNECT_TIMEOUT_MS,
        responseTimeoutMs: vars.MODEL_SERVER_RESPONSE_TIMEOUT_MS,
        pollIntervalMs: vars.MODEL_SERVER_POLL_INTERVAL_MS,
      },
      shapE: vars.SHAP_E_URL
        ? { url: vars.SHAP_E_URL, generateTimeoutMs: vars.SHAP_E_TIMEOUT_MS }
        : undefined,
      hunyuan3d: vars.HUNYUAN3D_URL
        ? { url: vars.HUNYUAN3D_URL, deadlineMs: vars.HUNYUAN3D_DEADLINE_MS }
        : undefined,
      meshy: vars.MESHY_API_KEY ? { url: vars.MESHY_URL, apiKey: vars.MESHY_API_KEY } : undefined,
    },
    jobs: {
      workerConcurrency: vars.WORKER_CONCURRENCY,
      leaseMs: vars.JOB_LEASE_MS,
      pollIntervalMs: vars.JOB_POLL_INTERVAL_MS,
      maxAttempts: vars.JOB_MAX_ATTEMPTS,
      retryBaseMs: vars.JOB_RETRY_BASE_MS,
      retryMaxMs: vars.JOB_RETRY_MAX_MS,
      timeoutMs: vars.JOB_TIMEOUT_MS,
      maxRunningPerUser: vars.JOBS_MAX_RUNNING_PER_USER,
      dailyQuota: vars.JOBS_DAILY_QUOTA,
      postprocessDailyQuota: vars.POSTPROCESS_DAILY_QUOTA,
      postprocessMaxTriangles: vars.POSTPROCESS_MAX_TRIANGLES,
      generateTimeoutMs: vars.GENERATE_TIMEOUT_MS,
      watchIntervalMs: vars.JOB_WATCH_INTERVAL_MS,
      watchOverlapMs: 5_000,
      cancelCheckMs: vars.JOB_CANCEL_CHECK_MS,
      progressIntervalMs: vars.JOB_PROGRESS_INTERVAL_MS,
      etaSampleSize: vars.JOB_ETA_SAMPLE_SIZE,
      queueRefreshMs: vars.JOB_QUEUE_REFRESH_MS,
    },
    generationRateLimit: rateLimit(
      vars.GENERATION_RATE_LIMIT_MAX,
      vars.GENERATION_RATE_LIMIT_IP_MAX,
      vars.GENERATION_RATE_LIMIT_WINDOW_MS,
    ),
    appUrl: vars.APP_URL ?? vars.PUBLIC_URL ?? `http://localhost:${vars.PORT}`,
    webhooks: {
      allowedHosts: commaList(vars.WEBHOOK_ALLOWED_HOSTS) ?? [],
      requireHttps: production,
      maxEndpointsPerUser: vars.WEBHOOK_MAX_ENDPOINTS_PER_USER,
      timeoutMs: vars.WEBHOOK_TIMEOUT_MS,
      retryScale: vars.WEBHOOK_RETRY_SCALE,
      disableAfterFailures: vars.WEBHOOK_DISABLE_AFTER_FAILURES,
      concurrency: vars.WEBHOOK_CONCURRENCY,
      pollIntervalMs: vars.WEBHOOK_POLL_INTERVAL_MS,
    },
  };
  return { config: Object.freeze(config), notices };
}
