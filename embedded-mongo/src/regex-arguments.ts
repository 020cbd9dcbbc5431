import type { Options } from 'mingo/types';

import { ErrorCode, MongoServerError } from './errors.js';

function isRegex(value: unknown): boolean {
  if (value instanceof RegExp) return true;
  return (
    value !== null &&
    typeof value === 'object' &&
    (value as { _bsontype?: unknown })._bsontype === 'BSONRegExp'
  );
}

/** The query comparisons mongod's filter parser refuses a regular expression to; `$eq`, `$in` and `$nin` take one. */
const REFUSING_REGEX = ['$ne', '$gt', '$gte', '$lt', '$lte'] as const;

function regexRefusal(operator: string, selector: string): MongoServerError {
  // `$ne` has its own words (SERVER-1705: `$ne` is not the negation of a pattern match).
  return new MongoServerError(
    ErrorCode.BadValue,
    operator === '$ne'
      ? "Can't have regex as arg to $ne."
      : `Can't have RegEx as arg to predicate over field '${selector}'.`,
  );
}

type QueryTest = (selector: string, operand: unknown, options: Options) => unknown;

/** `operators` with `$ne`, `$gt`, `$gte`, `$lt` and `$lte` refusing a regular expression as mongod does. */
export function refusingRegex<Operators extends object>(operators: Operators): Operators {
  const refusing = { ...operators } as Record<string, unknown>;
  for (const operator of REFUSING_REGEX) {
    const test = refusing[operator] as QueryTest | undefined;
    if (!test) continue;
    refusing[operator] = (selector: string, operand: unknown, options: Options) => {
      if (isRegex(operand)) throw regexRefusal(operator, selector);
      return test(selector, operand, options);
    };
  }
  return refusing as Operators;
}
