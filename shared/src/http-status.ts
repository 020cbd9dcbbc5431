import type { TErrorCode } from './errors.js';

/** The HTTP status each error code is answered with, over REST and over tRPC's HTTP transport. */
export const HttpStatusOfErrorCode: Record<TErrorCode, number> = {
  VALIDATION_FAILED: 400,
  BAD_REQUEST: 400,
  MALFORMED_BODY: 400,
  UNSUPPORTED_MEDIA_TYPE: 415,
  PAYLOAD_TOO_LARGE: 413,
  UNAUTHORIZED: 401,
  FORBIDDEN: 403,
  NOT_FOUND: 404,
  ROUTE_NOT_FOUND: 404,
  METHOD_NOT_ALLOWED: 405,
  CONFLICT: 409,
  RATE_LIMITED: 429,
  TIMEOUT: 408,
  SERVICE_UNAVAILABLE: 503,
  INTERNAL: 500,
};
