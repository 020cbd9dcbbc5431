import type { Document } from 'bson';
import * as pipelineOperators from 'mingo/operators/pipeline';
import type { Options } from 'mingo/types';
import { numericCompare } from 'mingo/util';

import { numericKind, toJsNumber } from './bson-numbers.js';
import { typeNameOf } from './bson-types.js';
import { ErrorCode, MongoServerError } from './errors.js';
import { sumOf } from './numeric-arithmetic.js';
import { compareValues } from './value-order.js';

/**
 * Window bounds of every BSON numeric type for mingo's `$setWindowFields`, which adds bounds to values
 * with JS `+` (a long or a decimal there was concatenated as text, leaving the window silently empty).
 */

/** One side of a range window around the current sortBy value: its exact value, or undefined if unbounded. */
function rangeBound(current: unknown, bound: unknown): unknown {
  if (bound === 'unbounded') return undefined;
  if (bound === 'current') return current;
  if (!numericKind(bound))
    throw new MongoServerError(
      ErrorCode.FailedToParse,
      `Range-based bounds expression must be a number, 'current' or 'unbounded', not ${typeNameOf(bound)}`,
    );
  return sumOf([current, bound]);
}

/**
 * mongod's range window without unit: the current sortBy value must be a number (5429414; a date needs
 * a unit, 5429413), the bounds are that value plus the offsets in the typed arithmetic, and a document is
 * in the window when its sortBy value lies between them in MongoDB's order (exactly, for every type).
 */
function rangeWindowMembership(current: unknown, begin: unknown, end: unknown): (value: unknown) => boolean {
  if (current instanceof Date)
    throw new MongoServerError(
      5429413,
      'Invalid range: For windows that involve date or time ranges, a unit must be provided.',
    );
  if (!numericKind(current))
    throw new MongoServerError(
      5429414,
      `Invalid range: Expected the sortBy field to be a number, but it was ${typeNameOf(current)}`,
    );
  const lower = rangeBound(current, begin);
  const upper = rangeBound(current, end);
  return (value) =>
    (lower === undefined || compareValues(value, lower) >= 0) &&
    (upper === undefined || compareValues(value, upper) <= 0);
}

numericCompare.rangeWindow = rangeWindowMembership;

type PipelineStage = (collection: unknown, expr: unknown, options: Options) => unknown;

const engineSetWindowFields = (pipelineOperators as unknown as Record<string, PipelineStage>)
  .$setWindowFields as PipelineStage;

const plainNumber = (value: unknown): unknown =>
  typeof value === 'object' && numericKind(value) ? toJsNumber(value) : value;

/** A window whose positions mingo computes with JS numbers: document offsets, and time ranges (a unit). */
function withPlainOffsets(window: unknown): unknown {
  if (window === null || typeof window !== 'object' || Array.isArray(window)) return window;
  const spec = window as Document;
  if (Array.isArray(spec.documents)) return { ...spec, documents: spec.documents.map(plainNumber) };
  if (Array.isArray(spec.range) && spec.unit !== undefined)
    return { ...spec, range: spec.range.map(plainNumber) };
  return window;
}

/** `$setWindowFields` with document offsets and time-range offsets of any numeric type given as JS numbers. */
export const setWindowFieldsStage: PipelineStage = (collection, expr, options) => {
  const spec = expr as Document | null;
  const output = spec?.output as Document | undefined;
  if (output === null || typeof output !== 'object') return engineSetWindowFields(collection, expr, options);
  const plainOutput: Document = {};
  for (const [field, fieldSpec] of Object.entries(output))
    plainOutput[field] =
      fieldSpec !== null && typeof fieldSpec === 'object' && 'window' in fieldSpec
        ? { ...(fieldSpec as Document), window: withPlainOffsets((fieldSpec as Document).window) }
        : fieldSpec;
  return engineSetWindowFields(collection, { ...spec, output: plainOutput }, options);
};
