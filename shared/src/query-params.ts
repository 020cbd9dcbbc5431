import { z } from 'zod';

/** Pages beyond this are refused: no list is that long, and a huge skip is work for nothing. */
export const MAX_PAGE = 100_000;

const DECIMAL_INTEGER = /^-?(0|[1-9][0-9]{0,15})$/;

/**
 * A whole number in [min, max]: a number from tRPC clients, its decimal digits from a REST query string.
 * Other spellings a coercion would accept ("", " 7", "1e3", "0x10", "7.0") are refused.
 */
export function queryInteger(min: number, max: number) {
  return (
    z
      .union([
        z.number(),
        z
          .string()
          .regex(DECIMAL_INTEGER, 'must be a whole number written in decimal digits')
          .transform(Number),
      ])
      .pipe(z.number().int().min(min).max(max))
      // The OpenAPI document describes what a REST caller writes: an integer query parameter.
      .meta({
        override: ({ jsonSchema }: { jsonSchema: Record<string, unknown> }) => {
          delete jsonSchema.anyOf;
          Object.assign(jsonSchema, { type: 'integer', minimum: min, maximum: max });
        },
      })
  );
}

/** A 1-based page number. */
export const ZPage = queryInteger(1, MAX_PAGE).default(1);

/**
 * A yes/no filter: a boolean from tRPC clients, `true` or `false` from a REST query string. (A coerced
 * boolean would read the string "false" as true.)
 */
export const ZBooleanFilter = z
  .union([z.boolean(), z.enum(['true', 'false'])])
  .transform((value) => value === true || value === 'true');
