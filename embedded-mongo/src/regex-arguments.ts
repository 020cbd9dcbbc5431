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

/**
 * `$ne` refusing a regular expression as mongod's filter parser does (SERVER-1705: `$ne` is not the
 * negation of a pattern match); `$nin` still takes regular expressions.
 */
export function refusingRegex<Test>(
  ne: (selector: string, operand: unknown, options: Options) => Test,
): (selector: string, operand: unknown, options: Options) => Test {
  return (selector, operand, options) => {
    if (isRegex(operand)) throw new MongoServerError(ErrorCode.BadValue, "Can't have regex as arg to $ne.");
    return ne(selector, operand, options);
  };
}
