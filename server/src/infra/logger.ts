import { join } from 'node:path';

import {
  pino,
  type DestinationStream,
  type Logger,
  type LoggerOptions,
  type TransportTargetOptions,
} from 'pino';

import type { Config } from '../config.js';

/** Fields that may carry secrets; pino replaces their values before a line is written. */
export const REDACTED_PATHS = [
  'req.headers.authorization',
  'req.headers.cookie',
  'req.headers["x-api-key"]',
  'res.headers["set-cookie"]',
  'password',
  'newPassword',
  'currentPassword',
  'token',
  'refreshToken',
  'accessToken',
  'secret',
  '*.password',
  '*.newPassword',
  '*.currentPassword',
  '*.token',
  '*.refreshToken',
  '*.accessToken',
  '*.secret',
  '*.jwtSecret',
];

const SENSITIVE_QUERY_PARAMETERS = /([?&](?:token|refreshToken|sig|signature|code|password)=)[^&]*/gi;

/** A URL for the log with the values of secret-bearing query parameters hidden. */
export function redactUrl(url: string): string {
  return url.replace(SENSITIVE_QUERY_PARAMETERS, '$1[redacted]');
}

function wantsPrettyLines(config: Config): boolean {
  return config.environment === 'development' && process.stdout.isTTY;
}

/** Readable lines for a person at a terminal in development; JSON lines for everything else. */
function stdoutTarget(config: Config): TransportTargetOptions {
  if (wantsPrettyLines(config))
    return {
      target: 'pino-pretty',
      level: config.log.level,
      options: { destination: 1, translateTime: 'SYS:HH:MM:ss.l', ignore: 'pid,hostname,service' },
    };
  return { target: 'pino/file', level: config.log.level, options: { destination: 1 } };
}

function transportTargets(config: Config): TransportTargetOptions[] {
  const targets: TransportTargetOptions[] = [stdoutTarget(config)];
  if (config.log.dir) {
    const rolling = {
      frequency: 'daily',
      mkdir: true,
      dateFormat: 'yyyy-MM-dd',
      limit: { count: config.log.retentionDays },
    };
    targets.push(
      {
        target: 'pino-roll',
        level: config.log.level,
        options: { ...rolling, file: join(config.log.dir, 'app'), extension: '.log' },
      },
      {
        target: 'pino-roll',
        level: 'error',
        options: { ...rolling, file: join(config.log.dir, 'error'), extension: '.log' },
      },
    );
  }
  return targets;
}

/** Options shared by every logger of the process: level, redaction, and request serialisation. */
export function loggerOptions(config: Config): LoggerOptions {
  return {
    level: config.log.level,
    base: { service: 'gen3d', pid: process.pid },
    redact: { paths: REDACTED_PATHS, censor: '[redacted]' },
    serializers: {
      req: (request: { method?: string; url?: string; ip?: string; headers?: Record<string, unknown> }) => ({
        method: request.method,
        url: request.url ? redactUrl(request.url) : undefined,
        remoteAddress: request.ip,
        userAgent: request.headers?.['user-agent'],
      }),
    },
  };
}

/**
 * The process logger: JSON lines to stdout (pretty ones at a development terminal), plus daily-rotated files
 * (all, and errors only) under LOG_DIR. Given a `destination`, the JSON lines go there instead (tests read them).
 */
export function createLogger(config: Config, destination?: DestinationStream): Logger {
  if (destination) return pino(loggerOptions(config), destination);
  if (config.log.level === 'silent') return pino({ ...loggerOptions(config), level: 'silent' });
  // Plain JSON lines to stdout need no transport thread (its own V8 heap); pino flushes them on exit.
  if (!config.log.dir && !wantsPrettyLines(config))
    return pino(loggerOptions(config), pino.destination({ dest: 1, sync: false }));
  return pino(loggerOptions(config), pino.transport({ targets: transportTargets(config) }));
}
