import type { TRPCError } from '@trpc/server';
import type { TRPC_ERROR_CODE_KEY } from '@trpc/server/rpc';

import { type TErrorCode, type TFieldIssue } from '@gen3d/shared';

import { DomainError } from '../domain-errors.js';

/** tRPC's own codes, for errors raised by tRPC itself (bad JSON, unknown procedure, ...). */
const ERROR_CODE_OF_TRPC_CODE: Partial<Record<TRPC_ERROR_CODE_KEY, TErrorCode>> = {
  PARSE_ERROR: 'MALFORMED_BODY',
  BAD_REQUEST: 'BAD_REQUEST',
  UNAUTHORIZED: 'UNAUTHORIZED',
  FORBIDDEN: 'FORBIDDEN',
  NOT_FOUND: 'NOT_FOUND',
  METHOD_NOT_SUPPORTED: 'METHOD_NOT_ALLOWED',
  TIMEOUT: 'TIMEOUT',
  CONFLICT: 'CONFLICT',
  PAYLOAD_TOO_LARGE: 'PAYLOAD_TOO_LARGE',
  UNSUPPORTED_MEDIA_TYPE: 'UNSUPPORTED_MEDIA_TYPE',
  TOO_MANY_REQUESTS: 'RATE_LIMITED',
  SERVICE_UNAVAILABLE: 'SERVICE_UNAVAILABLE',
};

export const TRPC_CODE_OF_ERROR_CODE: Record<TErrorCode, TRPC_ERROR_CODE_KEY> = {
  VALIDATION_FAILED: 'BAD_REQUEST',
  BAD_REQUEST: 'BAD_REQUEST',
  MALFORMED_BODY: 'PARSE_ERROR',
  UNSUPPORTED_MEDIA_TYPE: 'UNSUPPORTED_MEDIA_TYPE',
  PAYLOAD_TOO_LARGE: 'PAYLOAD_TOO_LARGE',
  HEADERS_TOO_LARGE: 'BAD_REQUEST',
  UNAUTHORIZED: 'UNAUTHORIZED',
  INVALID_CREDENTIALS: 'UNAUTHORIZED',
  INVALID_TOKEN: 'UNAUTHORIZED',
  INVALID_CODE: 'BAD_REQUEST',
  CONFIRMATION_MISMATCH: 'BAD_REQUEST',
  JOB_FINISHED: 'BAD_REQUEST',
  ASSET_URL_INVALID: 'FORBIDDEN',
  ASSET_URL_EXPIRED: 'FORBIDDEN',
  RANGE_NOT_SATISFIABLE: 'BAD_REQUEST',
  QUOTA_EXCEEDED: 'TOO_MANY_REQUESTS',
  GENERATION_FAILED: 'BAD_GATEWAY',
  FORBIDDEN: 'FORBIDDEN',
  ACCOUNT_DISABLED: 'FORBIDDEN',
  NOT_FOUND: 'NOT_FOUND',
  ROUTE_NOT_FOUND: 'NOT_FOUND',
  METHOD_NOT_ALLOWED: 'METHOD_NOT_SUPPORTED',
  CONFLICT: 'CONFLICT',
  RATE_LIMITED: 'TOO_MANY_REQUESTS',
  TOO_MANY_STREAMS: 'TOO_MANY_REQUESTS',
  BATCH_TOO_LARGE: 'BAD_REQUEST',
  TIMEOUT: 'TIMEOUT',
  SERVICE_UNAVAILABLE: 'SERVICE_UNAVAILABLE',
  INTERNAL: 'INTERNAL_SERVER_ERROR',
};

interface ZodLikeIssue {
  path: PropertyKey[];
  message: string;
}

function zodIssuesOf(error: TRPCError): ZodLikeIssue[] | undefined {
  const cause = error.cause as { name?: string; issues?: unknown } | undefined;
  if (error.code !== 'BAD_REQUEST' || cause?.name !== 'ZodError' || !Array.isArray(cause.issues))
    return undefined;
  return cause.issues as ZodLikeIssue[];
}

/** Field issues in the wire form: dotted paths (`options.seed`, `items.0.name`). */
export function toFieldIssues(issues: ZodLikeIssue[]): TFieldIssue[] {
  return issues.map((issue) => ({ path: issue.path.map(String).join('.'), message: issue.message }));
}

/** One human sentence for a list of field issues. */
export function describeIssues(issues: TFieldIssue[]): string {
  return `Invalid input: ${issues.map((issue) => `${issue.path || '(body)'}: ${issue.message}`).join('; ')}`;
}

export interface ErrorData {
  code: TErrorCode;
  httpStatus: number;
  path?: string;
  requestId?: string;
  issues?: TFieldIssue[];
  retryAfterSeconds?: number;
}

export interface FormattedError {
  message: string;
  code: number;
  data: ErrorData;
}

/**
 * The one error formatter: domain errors keep their code and message, zod input errors become
 * VALIDATION_FAILED with field paths, and anything unexpected is masked to a request id.
 */
export function formatError(input: {
  error: TRPCError;
  shape: { code: number; data: { httpStatus: number; path?: string } };
  requestId: string | undefined;
}): FormattedError {
  const { error, shape, requestId } = input;
  const base = {
    httpStatus: shape.data.httpStatus,
    ...(shape.data.path ? { path: shape.data.path } : {}),
    ...(requestId ? { requestId } : {}),
  };
  if (error.cause instanceof DomainError) {
    const domain = error.cause;
    return {
      message: domain.message,
      code: shape.code,
      data: {
        ...base,
        code: domain.code,
        ...(domain.issues ? { issues: domain.issues } : {}),
        ...(domain.retryAfterSeconds !== undefined ? { retryAfterSeconds: domain.retryAfterSeconds } : {}),
      },
    };
  }
  const zodIssues = zodIssuesOf(error);
  if (zodIssues) {
    const issues = toFieldIssues(zodIssues);
    return {
      message: describeIssues(issues),
      code: shape.code,
      data: { ...base, code: 'VALIDATION_FAILED', issues },
    };
  }
  // tRPC reports input it cannot parse as JSON as a plain BAD_REQUEST; REST calls that MALFORMED_BODY.
  if (error.code === 'BAD_REQUEST' && error.cause instanceof SyntaxError) {
    return {
      message: `The input is not valid JSON (${error.cause.message})`,
      code: shape.code,
      data: { ...base, code: 'MALFORMED_BODY' },
    };
  }
  const code = ERROR_CODE_OF_TRPC_CODE[error.code];
  if (!code) {
    return {
      message: `Internal server error${requestId ? ` (request id ${requestId})` : ''}`,
      code: shape.code,
      data: { ...base, code: 'INTERNAL' },
    };
  }
  // Services report missing records as DomainErrors, so a bare NOT_FOUND is tRPC's unknown procedure.
  if (code === 'NOT_FOUND') {
    return { message: error.message, code: shape.code, data: { ...base, code: 'ROUTE_NOT_FOUND' } };
  }
  return { message: error.message, code: shape.code, data: { ...base, code } };
}
