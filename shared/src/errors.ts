import { z } from 'zod';

/**
 * Machine-readable error codes every error response carries (`code` in REST bodies, `data.code` in
 * tRPC errors). Clients branch on these; the human message may change.
 */
export const ErrorCodes = [
  'VALIDATION_FAILED',
  'BAD_REQUEST',
  'MALFORMED_BODY',
  'UNSUPPORTED_MEDIA_TYPE',
  'PAYLOAD_TOO_LARGE',
  'HEADERS_TOO_LARGE',
  'UNAUTHORIZED',
  'INVALID_CREDENTIALS',
  'INVALID_TOKEN',
  'INVALID_CODE',
  'CONFIRMATION_MISMATCH',
  'JOB_FINISHED',
  'ASSET_URL_INVALID',
  'ASSET_URL_EXPIRED',
  'RANGE_NOT_SATISFIABLE',
  'QUOTA_EXCEEDED',
  'GENERATION_FAILED',
  'FORBIDDEN',
  'ACCOUNT_DISABLED',
  'NOT_FOUND',
  'ROUTE_NOT_FOUND',
  'METHOD_NOT_ALLOWED',
  'CONFLICT',
  'RATE_LIMITED',
  'TOO_MANY_STREAMS',
  'BATCH_TOO_LARGE',
  'TIMEOUT',
  'SERVICE_UNAVAILABLE',
  'INTERNAL',
] as const;

export const ZErrorCode = z.enum(ErrorCodes);
export type TErrorCode = z.infer<typeof ZErrorCode>;

/** One problem with a request field: where it is (`prompt`, `options.seed`) and what is wrong. */
export const ZFieldIssue = z.object({
  path: z.string(),
  message: z.string(),
});
export type TFieldIssue = z.infer<typeof ZFieldIssue>;

/** The JSON body of every REST error response. */
export const ZRestError = z.object({
  error: z.string().describe('Human-readable message, safe to show to a user'),
  code: ZErrorCode,
  statusCode: z.number().int(),
  requestId: z.string().optional(),
  issues: z.array(ZFieldIssue).optional(),
});
export type TRestError = z.infer<typeof ZRestError>;
