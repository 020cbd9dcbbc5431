import type { TRPCError } from '@trpc/server';
import type { TRPC_ERROR_CODE_KEY } from '@trpc/server/rpc';

import {
  ErrorCatalogue,
  ErrorCodes,
  type ErrorCatalogueEntry,
  type TErrorCode,
  type TFieldIssue,
} from '@gen3d/shared';

import { DomainError } from '../domain-errors.js';

/** The code of an error tRPC or the REST projection raised itself, as the catalogue marks it (`trpcOwn`). */
const CODE_OF_TRPC_OWN_ERROR = new Map<TRPC_ERROR_CODE_KEY, TErrorCode>(
  ErrorCodes.flatMap((code): Array<[TRPC_ERROR_CODE_KEY, TErrorCode]> => {
    const entry: ErrorCatalogueEntry = ErrorCatalogue[code];
    return entry.trpcOwn ? [[entry.trpcCode, code]] : [];
  }),
);

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

/** What a failed call answers, whatever the transport: its code, a message safe to show, and details. */
export interface DescribedError {
  code: TErrorCode;
  message: string;
  issues?: TFieldIssue[];
  retryAfterSeconds?: number;
}

/**
 * Domain errors keep their code and message, zod input errors become VALIDATION_FAILED with field paths,
 * tRPC's own errors take the code the catalogue gives them, and anything unexpected is masked to a request id.
 */
export function describeError(error: TRPCError, requestId: string | undefined): DescribedError {
  if (error.cause instanceof DomainError) {
    const domain = error.cause;
    return {
      code: domain.code,
      message: domain.message,
      ...(domain.issues ? { issues: domain.issues } : {}),
      ...(domain.retryAfterSeconds !== undefined ? { retryAfterSeconds: domain.retryAfterSeconds } : {}),
    };
  }
  const zodIssues = zodIssuesOf(error);
  if (zodIssues) {
    const issues = toFieldIssues(zodIssues);
    return { code: 'VALIDATION_FAILED', message: describeIssues(issues), issues };
  }
  // tRPC reports input it cannot parse as JSON as a plain BAD_REQUEST; REST calls that MALFORMED_BODY.
  if (error.code === 'BAD_REQUEST' && error.cause instanceof SyntaxError) {
    return { code: 'MALFORMED_BODY', message: `The input is not valid JSON (${error.cause.message})` };
  }
  const code = CODE_OF_TRPC_OWN_ERROR.get(error.code) ?? 'INTERNAL';
  if (code === 'INTERNAL') {
    return {
      code,
      message: `${ErrorCatalogue.INTERNAL.message}${requestId ? ` (request id ${requestId})` : ''}`,
    };
  }
  return { code, message: error.message };
}

/** The one tRPC error formatter: the described error, with the catalogue's HTTP status (tRPC answers it). */
export function formatError(input: {
  error: TRPCError;
  shape: { code: number; data: { httpStatus: number; path?: string } };
  requestId: string | undefined;
}): FormattedError {
  const { error, shape, requestId } = input;
  const { code, message, ...details } = describeError(error, requestId);
  return {
    message,
    code: shape.code,
    data: {
      httpStatus: ErrorCatalogue[code].status,
      ...(shape.data.path ? { path: shape.data.path } : {}),
      ...(requestId ? { requestId } : {}),
      code,
      ...details,
    },
  };
}
