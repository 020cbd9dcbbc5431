import { z } from 'zod';

import { ErrorCodes } from './error-catalogue.js';

/** A machine-readable error code of the catalogue (`code` in REST bodies, `data.code` in tRPC errors). */
export const ZErrorCode = z.enum(ErrorCodes);

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
