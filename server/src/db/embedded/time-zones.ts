import { evalExpr } from 'mingo/core';
import * as dateOperators from 'mingo/operators/expression/date';
import type { Options } from 'mingo/types';
import { MongoServerError } from './errors.js';

/** MongoDB's "unrecognized time zone identifier" (40485). */
const UNKNOWN_TIME_ZONE = 40485;
const OFFSET = /^([+-])(\d{2})(?::?(\d{2}))?$/;
const BUCKET_MS = 15 * 60 * 1000;
const MAX_CACHED_OFFSETS = 50_000;

const formatters = new Map<string, Intl.DateTimeFormat>();
const offsets = new Map<string, number>();

function formatterOf(zone: string): Intl.DateTimeFormat {
  let formatter = formatters.get(zone);
  if (!formatter) {
    try {
      formatter = new Intl.DateTimeFormat('en-US', { timeZone: zone, hourCycle: 'h23', year: 'numeric', month: 'numeric', day: 'numeric', hour: 'numeric', minute: 'numeric', second: 'numeric' });
    } catch {
      throw new MongoServerError(UNKNOWN_TIME_ZONE, `unrecognized time zone identifier: "${zone}"`);
    }
    formatters.set(zone, formatter);
  }
  return formatter;
}

/**
 * Minutes east of UTC of `zone` at `date`, as mongod reads a timezone: an Olson name (UTC, Europe/Paris,
 * America/Argentina/Buenos_Aires, Etc/GMT+5, ...) or an offset (+02, +0530, -03:30). Offsets of named zones
 * are cached per quarter hour, the finest step at which zones change theirs.
 */
export function zoneOffsetMinutes(zone: string, date: Date): number {
  const fixed = OFFSET.exec(zone);
  if (fixed) {
    const minutes = Number(fixed[2]) * 60 + Number(fixed[3] ?? 0);
    return fixed[1] === '-' ? -minutes : minutes;
  }
  const bucket = Math.floor(date.getTime() / BUCKET_MS);
  const key = `${zone}@${bucket}`;
  const cached = offsets.get(key);
  if (cached !== undefined) return cached;
  const at = new Date(bucket * BUCKET_MS);
  const parts = Object.fromEntries(formatterOf(zone).formatToParts(at).map((part) => [part.type, part.value]));
  const wallClock = Date.UTC(Number(parts.year), Number(parts.month) - 1, Number(parts.day), Number(parts.hour), Number(parts.minute), Number(parts.second));
  const minutes = Math.round((wallClock - at.getTime()) / 60_000);
  if (offsets.size >= MAX_CACHED_OFFSETS) offsets.clear();
  offsets.set(key, minutes);
  return minutes;
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
    if (expr === null || typeof expr !== 'object' || Array.isArray(expr) || expr instanceof Date || !('timezone' in expr)) return operator(obj, expr, options);
    const { timezone, ...rest } = expr as Record<string, unknown>;
    const zone = evalExpr(obj, timezone, options);
    if (zone === null || zone === undefined) return null;
    if (typeof zone !== 'string') throw new MongoServerError(40517, `timezone must evaluate to a string, found ${typeof zone}`);
    const date = evalExpr(obj, rest[dateField], options);
    if (!(date instanceof Date)) return operator(obj, rest, options);
    return operator(obj, { ...rest, [dateField]: date, timezone: asOffset(zoneOffsetMinutes(zone, date)) }, options);
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
  WITH_DATE.map((name) => [name, zoneAware((dateOperators as unknown as Record<string, ExpressionOperator>)[name] as ExpressionOperator, 'date')]),
);
