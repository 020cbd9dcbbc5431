/**
 * tRPC's error code names (`TRPC_ERROR_CODE_KEY` of @trpc/server), written out so the contract needs no
 * tRPC at run time. The server hands them to tRPC, so a name tRPC does not know fails to compile there.
 */
export type TTrpcErrorCode =
  | 'PARSE_ERROR'
  | 'BAD_REQUEST'
  | 'UNAUTHORIZED'
  | 'PAYMENT_REQUIRED'
  | 'FORBIDDEN'
  | 'NOT_FOUND'
  | 'METHOD_NOT_SUPPORTED'
  | 'TIMEOUT'
  | 'CONFLICT'
  | 'PRECONDITION_FAILED'
  | 'PAYLOAD_TOO_LARGE'
  | 'UNSUPPORTED_MEDIA_TYPE'
  | 'UNPROCESSABLE_CONTENT'
  | 'PRECONDITION_REQUIRED'
  | 'TOO_MANY_REQUESTS'
  | 'CLIENT_CLOSED_REQUEST'
  | 'INTERNAL_SERVER_ERROR'
  | 'NOT_IMPLEMENTED'
  | 'BAD_GATEWAY'
  | 'SERVICE_UNAVAILABLE'
  | 'GATEWAY_TIMEOUT';

export interface ErrorCatalogueEntry {
  /** The HTTP status of every answer with this code, over REST and over tRPC (its `data.httpStatus`). */
  readonly status: number;
  /** The tRPC code of the error, which gives its JSON-RPC `code` number over tRPC. */
  readonly trpcCode: TTrpcErrorCode;
  /** What the error says when the place raising it has nothing more precise to say. */
  readonly message: string;
  /** Errors tRPC or the REST projection raise themselves with `trpcCode` are reported with this code. */
  readonly trpcOwn?: true;
}

/**
 * Every machine-readable error code (`code` in REST bodies, `data.code` in tRPC errors) with its HTTP
 * status, tRPC code and default message: the one place a code is added. Clients branch on the codes;
 * the messages may change.
 *
 * Each tRPC code is the one whose own HTTP status is the code's status, except for 416 and 431, which
 * tRPC has no code for: those carry BAD_REQUEST, and tRPC still answers the catalogue's status because
 * its transport takes the status from the formatted error's `data.httpStatus`.
 */
export const ErrorCatalogue = {
  VALIDATION_FAILED: { status: 400, trpcCode: 'BAD_REQUEST', message: 'The input is not valid' },
  BAD_REQUEST: { status: 400, trpcCode: 'BAD_REQUEST', message: 'The request is not valid', trpcOwn: true },
  MALFORMED_BODY: { status: 400, trpcCode: 'PARSE_ERROR', message: 'Body is not valid JSON', trpcOwn: true },
  UNSUPPORTED_MEDIA_TYPE: {
    status: 415,
    trpcCode: 'UNSUPPORTED_MEDIA_TYPE',
    message: 'Unsupported content type; send application/json',
    trpcOwn: true,
  },
  PAYLOAD_TOO_LARGE: {
    status: 413,
    trpcCode: 'PAYLOAD_TOO_LARGE',
    message: 'Request body is too large',
    trpcOwn: true,
  },
  HEADERS_TOO_LARGE: {
    status: 431,
    trpcCode: 'BAD_REQUEST',
    message: 'The request line and headers are too large',
  },
  UNAUTHORIZED: {
    status: 401,
    trpcCode: 'UNAUTHORIZED',
    message: 'Authentication required',
    trpcOwn: true,
  },
  INVALID_CREDENTIALS: { status: 401, trpcCode: 'UNAUTHORIZED', message: 'Wrong email or password' },
  INVALID_TOKEN: { status: 401, trpcCode: 'UNAUTHORIZED', message: 'The token is invalid or expired' },
  WEAK_PASSWORD: {
    status: 400,
    trpcCode: 'BAD_REQUEST',
    message: 'This password is too easy to guess; choose a longer or less common one',
  },
  INVALID_CODE: { status: 400, trpcCode: 'BAD_REQUEST', message: 'The code is wrong or has expired' },
  CONFIRMATION_MISMATCH: {
    status: 400,
    trpcCode: 'BAD_REQUEST',
    message: 'The confirmation does not match',
  },
  ASSET_NOT_POSTPROCESSABLE: {
    status: 400,
    trpcCode: 'BAD_REQUEST',
    message: 'Only a model asset (glb, obj or ply) can be post-processed',
  },
  POSTPROCESS_TARGET_TOO_HIGH: {
    status: 400,
    trpcCode: 'BAD_REQUEST',
    message: "The target triangle count is not below the source's",
  },
  POSTPROCESS_SOURCE_TOO_LARGE: {
    status: 400,
    trpcCode: 'BAD_REQUEST',
    message: 'The source has more triangles than post-processing takes',
  },
  JOB_FINISHED: { status: 400, trpcCode: 'BAD_REQUEST', message: 'The job has already ended' },
  ASSET_URL_INVALID: { status: 403, trpcCode: 'FORBIDDEN', message: 'This asset URL is not valid' },
  ASSET_URL_EXPIRED: { status: 403, trpcCode: 'FORBIDDEN', message: 'This asset URL has expired' },
  NOT_AN_IMAGE: {
    status: 400,
    trpcCode: 'BAD_REQUEST',
    message: 'The file is not an image; send a PNG, JPEG or WebP file',
  },
  IMAGE_FORMAT_UNSUPPORTED: {
    status: 415,
    trpcCode: 'UNSUPPORTED_MEDIA_TYPE',
    message: 'This image format is not supported; send a PNG, JPEG or WebP file',
  },
  IMAGE_TOO_LARGE: {
    status: 413,
    trpcCode: 'PAYLOAD_TOO_LARGE',
    message: 'The image file is larger than allowed',
  },
  IMAGE_TOO_MANY_PIXELS: {
    status: 413,
    trpcCode: 'PAYLOAD_TOO_LARGE',
    message: 'The image is wider, taller or has more pixels than allowed',
  },
  IMAGE_CORRUPT: {
    status: 400,
    trpcCode: 'BAD_REQUEST',
    message: 'The image is damaged or cut short and cannot be read',
  },
  NOT_AN_IMAGE_ASSET: {
    status: 400,
    trpcCode: 'BAD_REQUEST',
    message: 'imageAssetId names an asset that is not an input image',
  },
  MODEL_SERVER_TAKES_NO_IMAGES: {
    status: 400,
    trpcCode: 'BAD_REQUEST',
    message: 'The model server takes text only',
  },
  RANGE_NOT_SATISFIABLE: {
    status: 416,
    trpcCode: 'BAD_REQUEST',
    message: 'The requested range is outside the file',
  },
  WEBHOOK_URL_REFUSED: {
    status: 400,
    trpcCode: 'BAD_REQUEST',
    message: 'This webhook URL is not allowed: use http(s) on a public address (https in production)',
  },
  WEBHOOK_ENDPOINT_DISABLED: {
    status: 409,
    trpcCode: 'CONFLICT',
    message: 'The webhook endpoint is disabled; enable it first',
  },
  QUOTA_EXCEEDED: { status: 429, trpcCode: 'TOO_MANY_REQUESTS', message: 'A quota is used up' },
  GENERATION_FAILED: { status: 502, trpcCode: 'BAD_GATEWAY', message: 'The model server failed to generate' },
  FORBIDDEN: {
    status: 403,
    trpcCode: 'FORBIDDEN',
    message: 'You are not allowed to do this',
    trpcOwn: true,
  },
  ACCOUNT_DISABLED: { status: 403, trpcCode: 'FORBIDDEN', message: 'This account is deactivated' },
  API_KEY_NOT_ALLOWED: {
    status: 403,
    trpcCode: 'FORBIDDEN',
    message: 'API keys cannot do this; sign in with your password instead',
  },
  MISSING_SCOPE: { status: 403, trpcCode: 'FORBIDDEN', message: 'The API key lacks the scope this needs' },
  NOT_FOUND: { status: 404, trpcCode: 'NOT_FOUND', message: 'Not found' },
  // Services report missing records as NOT_FOUND, so tRPC's own NOT_FOUND is an unknown procedure or path.
  ROUTE_NOT_FOUND: { status: 404, trpcCode: 'NOT_FOUND', message: 'No such route', trpcOwn: true },
  METHOD_NOT_ALLOWED: {
    status: 405,
    trpcCode: 'METHOD_NOT_SUPPORTED',
    message: 'This method is not allowed here',
    trpcOwn: true,
  },
  CONFLICT: {
    status: 409,
    trpcCode: 'CONFLICT',
    message: 'This conflicts with the current state',
    trpcOwn: true,
  },
  RATE_LIMITED: {
    status: 429,
    trpcCode: 'TOO_MANY_REQUESTS',
    message: 'Too many requests, please slow down',
    trpcOwn: true,
  },
  ACCOUNT_LOCKED: {
    status: 429,
    trpcCode: 'TOO_MANY_REQUESTS',
    message: 'Too many failed attempts; this is locked for a while',
  },
  TOO_MANY_STREAMS: { status: 429, trpcCode: 'TOO_MANY_REQUESTS', message: 'Too many live streams open' },
  BATCH_TOO_LARGE: { status: 400, trpcCode: 'BAD_REQUEST', message: 'The batch carries too many calls' },
  TIMEOUT: { status: 408, trpcCode: 'TIMEOUT', message: 'The request took too long', trpcOwn: true },
  SERVICE_UNAVAILABLE: {
    status: 503,
    trpcCode: 'SERVICE_UNAVAILABLE',
    message: 'The service is unavailable; try again',
    trpcOwn: true,
  },
  INTERNAL: {
    status: 500,
    trpcCode: 'INTERNAL_SERVER_ERROR',
    message: 'Internal server error',
    trpcOwn: true,
  },
} as const satisfies Record<string, ErrorCatalogueEntry>;

export type TErrorCode = keyof typeof ErrorCatalogue;

/** Every error code, in the catalogue's order. */
export const ErrorCodes = Object.keys(ErrorCatalogue) as readonly TErrorCode[];

/** The HTTP status each error code is answered with, over REST and over tRPC's HTTP transport. */
export const HttpStatusOfErrorCode = Object.fromEntries(
  ErrorCodes.map((code) => [code, ErrorCatalogue[code].status]),
) as Record<TErrorCode, number>;
