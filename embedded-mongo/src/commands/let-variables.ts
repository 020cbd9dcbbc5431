import type { Document } from 'bson';
import { evalExpr } from 'mingo/core';
import type { Options } from 'mingo/types';

import { isDocument } from '../bson-types.js';
import { ErrorCode, fromQueryEngineError, MongoServerError } from '../errors.js';
import { engineOptions } from '../query-engine.js';

/** mongod's Variables::validateNameForUserWrite: a lowercase (or non-ASCII) start, then letters, digits, `_`. */
function validateVariableName(name: string): void {
  if (name.length === 0)
    throw new MongoServerError(ErrorCode.Location16866, 'empty variable names are not allowed');
  const first = name.charCodeAt(0);
  if (!((first >= 0x61 && first <= 0x7a) || first >= 0x80))
    throw new MongoServerError(
      ErrorCode.Location16867,
      `'${name}' starts with an invalid character for a user variable name`,
    );
  for (const character of name.slice(1)) {
    if (!/^[A-Za-z0-9_]$/.test(character) && character.charCodeAt(0) < 0x80)
      throw new MongoServerError(
        ErrorCode.Location16868,
        `'${name}' contains an invalid character for a variable name: '${character}'`,
      );
  }
}

/** True when the expression reads the document (a field path, `$$ROOT`, `$$CURRENT`), outside `$literal`. */
function readsDocument(expression: unknown): boolean {
  if (typeof expression === 'string')
    return (
      (expression.startsWith('$') && !expression.startsWith('$$')) ||
      /^\$\$(ROOT|CURRENT)(\.|$)/.test(expression)
    );
  if (Array.isArray(expression)) return expression.some(readsDocument);
  if (!isDocument(expression)) return false;
  const keys = Object.keys(expression);
  if (keys.length === 1 && keys[0] === '$literal') return false;
  return keys.some((key) => readsDocument(expression[key]));
}

/**
 * A command's `let`: each value an expression evaluated once, in order, before any document is read
 * (so a later variable may use an earlier one), as mongod's seedVariablesWithLetParameters does.
 */
export function evaluateLet(letParameters: Document | undefined): Document | undefined {
  if (!letParameters) return undefined;
  const variables: Document = {};
  for (const [name, expression] of Object.entries(letParameters)) {
    validateVariableName(name);
    if (readsDocument(expression))
      throw new MongoServerError(
        ErrorCode.Location4890500,
        'Command let Expression tried to access a field, but this is not allowed because command let expressions run before the query examines any documents.',
      );
    try {
      variables[name] = evalExpr({}, expression, engineOptions({ variables }) as Options);
    } catch (error) {
      throw fromQueryEngineError(error);
    }
  }
  return variables;
}
