import { evalExpr } from 'mingo/core';
import * as dateOperators from 'mingo/operators/expression/date';
import type { Options } from 'mingo/types';

import { UnknownTimeZoneError, zoneOffsetMinutes } from '@gen3d/shared/time-zones';

import { MongoServerError } from './errors.js';

/** MongoDB's "unrecognized time zone identifier" (40485). */
const UNKNOWN_TIME_ZONE = 40485;

function offsetAt(zone: string, date: Date): number {
  try {
    return zoneOffsetMinutes(zone, date);
  } catch (error) {
    if (error instanceof UnknownTimeZoneError) throw new MongoServerError(UNKNOWN_TIME_ZONE, error.message);
    throw error;
  }
}

function asOffset(minutes: number): string {
  const sign = minutes < 0 ? '-' : '+';
  const absolute = Math.abs(minutes);
  return `${sign}${String(Math.floor(absolute / 60)).padStart(2, '0')}:${String(absolute % 60).padStart(2, '0')}`;
}

type ExpressionOperator = (obj: unknown, expr: unknown, options: Options) => unknown;

/**
 * The query engine reads only Area/Location names and fixed offsets. This resolves any timezone to the
 * offset in force at the operand's date, then lets the engine's operator do the rest.
 */
function zoneAware(operator: ExpressionOperator, dateField: string): ExpressionOperator {
  return (obj, expr, options) => {
    if (
      expr === null ||
      typeof expr !== 'object' ||
      Array.isArray(expr) ||
      expr instanceof Date ||
      !('timezone' in expr)
    )
      return operator(obj, expr, options);
    const { timezone, ...rest } = expr as Record<string, unknown>;
    const zone = evalExpr(obj, timezone, options);
    if (zone === null || zone === undefined) return null;
    if (typeof zone !== 'string')
      throw new MongoServerError(40517, `timezone must evaluate to a string, found ${typeof zone}`);
    const date = evalExpr(obj, rest[dateField], options);
    if (!(date instanceof Date)) return operator(obj, rest, options);
    return operator(obj, { ...rest, [dateField]: date, timezone: asOffset(offsetAt(zone, date)) }, options);
  };
}

const WITH_DATE = [
  '$dateToString',
  '$dateToParts',
  '$dateTrunc',
  '$year',
  '$month',
  '$week',
  '$dayOfMonth',
  '$dayOfWeek',
  '$dayOfYear',
  '$hour',
  '$minute',
  '$second',
  '$millisecond',
  '$isoWeek',
  '$isoWeekYear',
  '$isoDayOfWeek',
] as const;

/** The date operators that take `{date, timezone}`, reading every timezone mongod reads. */
export const zoneAwareDateOperators: Record<string, ExpressionOperator> = Object.fromEntries(
  WITH_DATE.map((name) => [
    name,
    zoneAware(
      (dateOperators as unknown as Record<string, ExpressionOperator>)[name] as ExpressionOperator,
      'date',
    ),
  ]),
);
