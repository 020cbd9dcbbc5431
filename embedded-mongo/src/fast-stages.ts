import { ObjectId, type Document } from 'bson';

import { zoneOffsetMinutes } from '@gen3d/shared/time-zones';

import { isNumberObject, toJsNumber } from './bson-numbers.js';
import { MongoMean, MongoSum } from './double-summation.js';
import { exactNumberSlot } from './exact-numbers.js';
import { compareValues as compareValue } from './value-order.js';

/**
 * A native `$group` for the shapes analytics use: keys and accumulator arguments made of field paths,
 * literals and a few operators ($cond, $eq, $ifNull, $toLower, $trim, $dateToString with %Y %m %d %H %M %S
 * %L). The general engine spends most of its time interpreting expressions per document; this compiles
 * them once. Anything else (or a value the compiled form cannot treat as MongoDB would) falls back to the
 * general engine, so results never differ.
 */

/** Thrown while compiling or running (out of a native test too) when the general engine must answer instead. */
export class NeedsEngine extends Error {}

type Compiled = (doc: Document) => unknown;

const MISSING = undefined;

function fieldGetter(path: string): Compiled {
  const parts = path.split('.');
  if (parts.some((part) => part === '' || part.startsWith('$'))) throw new NeedsEngine();
  if (parts.length === 1) {
    const field = parts[0] as string;
    return (doc) => {
      const value = doc[field];
      if (Array.isArray(value)) throw new NeedsEngine();
      return value;
    };
  }
  return (doc) => {
    let value: unknown = doc;
    for (const part of parts) {
      if (value === null || value === undefined) return MISSING;
      // Paths through arrays mean something else in MongoDB (they fan out): the general engine answers.
      if (
        Array.isArray(value) ||
        typeof value !== 'object' ||
        value instanceof Date ||
        value instanceof ObjectId
      )
        throw new NeedsEngine();
      value = (value as Document)[part];
    }
    if (Array.isArray(value)) throw new NeedsEngine();
    return value;
  };
}

function isPlain(value: unknown): boolean {
  return (
    value === null || typeof value === 'string' || typeof value === 'number' || typeof value === 'boolean'
  );
}

function argumentsOf(operand: unknown, count: number): unknown[] {
  if (!Array.isArray(operand) || operand.length !== count) throw new NeedsEngine();
  return operand;
}

const DATE_PARTS: Record<string, (date: Date) => string> = {
  '%Y': (date) => String(date.getUTCFullYear()).padStart(4, '0'),
  '%m': (date) => String(date.getUTCMonth() + 1).padStart(2, '0'),
  '%d': (date) => String(date.getUTCDate()).padStart(2, '0'),
  '%H': (date) => String(date.getUTCHours()).padStart(2, '0'),
  '%M': (date) => String(date.getUTCMinutes()).padStart(2, '0'),
  '%S': (date) => String(date.getUTCSeconds()).padStart(2, '0'),
  '%L': (date) => String(date.getUTCMilliseconds()).padStart(3, '0'),
  '%%': () => '%',
};

/** Formats whose output is the same for every instant of a quarter hour (zones shift by quarter hours). */
const QUARTER_HOUR_STABLE = new Set(['%Y', '%m', '%d', '%H', '%%']);
const QUARTER_HOUR_MS = 15 * 60 * 1000;

function compileDateToString(operand: unknown): Compiled {
  if (operand === null || typeof operand !== 'object' || Array.isArray(operand)) throw new NeedsEngine();
  const { format, date, timezone, ...others } = operand as Document;
  if (
    Object.keys(others).length > 0 ||
    typeof format !== 'string' ||
    (timezone !== undefined && typeof timezone !== 'string')
  )
    throw new NeedsEngine();
  const pieces = format.split(/(%.)/).filter((piece) => piece !== '');
  const writers = pieces.map((piece) => {
    if (!piece.startsWith('%')) return () => piece;
    const writer = DATE_PARTS[piece];
    if (!writer) throw new NeedsEngine();
    return writer;
  });
  const write = (value: Date): string => {
    const local =
      timezone === undefined
        ? value
        : new Date(value.getTime() + zoneOffsetMinutes(timezone, value) * 60_000);
    let text = '';
    for (const writer of writers) text += writer(local);
    return text;
  };
  const stable = pieces.every((piece) => !piece.startsWith('%') || QUARTER_HOUR_STABLE.has(piece));
  const byQuarterHour = new Map<number, string>();
  const dateOf = compile(date);
  return (doc) => {
    const value = dateOf(doc);
    if (value === null || value === undefined) return null;
    if (!(value instanceof Date)) throw new NeedsEngine();
    if (!stable) return write(value);
    const quarter = Math.floor(value.getTime() / QUARTER_HOUR_MS);
    let text = byQuarterHour.get(quarter);
    if (text === undefined) {
      text = write(value);
      byQuarterHour.set(quarter, text);
    }
    return text;
  };
}

function compileOperator(name: string, operand: unknown): Compiled {
  switch (name) {
    case '$cond': {
      const [test, then, otherwise] = (
        Array.isArray(operand)
          ? argumentsOf(operand, 3)
          : [(operand as Document)?.if, (operand as Document)?.then, (operand as Document)?.else]
      ).map(compile) as [Compiled, Compiled, Compiled];
      return (doc) => {
        const value = test(doc);
        // MongoDB's truthiness: false, null, missing and 0 (of any numeric type) are false.
        return value === false ||
          value === null ||
          value === undefined ||
          value === 0 ||
          (isNumberObject(value) && toJsNumber(value) === 0)
          ? otherwise(doc)
          : then(doc);
      };
    }
    case '$eq': {
      const [left, right] = argumentsOf(operand, 2).map(compile) as [Compiled, Compiled];
      return (doc) => {
        const a = left(doc);
        const b = right(doc);
        // Missing compares unlike null in expressions, and other types need BSON comparison.
        if (!isPlain(a) || !isPlain(b)) throw new NeedsEngine();
        return a === b;
      };
    }
    case '$ifNull': {
      const [value, fallback] = argumentsOf(operand, 2).map(compile) as [Compiled, Compiled];
      return (doc) => value(doc) ?? fallback(doc);
    }
    case '$toLower': {
      const value = compile(Array.isArray(operand) ? argumentsOf(operand, 1)[0] : operand);
      return (doc) => {
        const text = value(doc);
        if (text === null || text === undefined) return '';
        if (typeof text !== 'string') throw new NeedsEngine();
        return text.toLowerCase();
      };
    }
    case '$trim': {
      if (
        operand === null ||
        typeof operand !== 'object' ||
        Array.isArray(operand) ||
        Object.keys(operand).some((key) => key !== 'input')
      )
        throw new NeedsEngine();
      const value = compile((operand as Document).input);
      return (doc) => {
        const text = value(doc);
        if (text === null || text === undefined) return null;
        if (typeof text !== 'string') throw new NeedsEngine();
        return text.trim();
      };
    }
    case '$dateToString':
      return compileDateToString(operand);
    default:
      throw new NeedsEngine();
  }
}

function compile(expression: unknown): Compiled {
  if (typeof expression === 'string') {
    if (expression.startsWith('$$')) throw new NeedsEngine();
    if (expression.startsWith('$')) return fieldGetter(expression.slice(1));
    return () => expression;
  }
  if (expression === null || typeof expression === 'number' || typeof expression === 'boolean')
    return () => expression;
  // A BSON value (a Long, a Decimal128, a Double...) is a literal, not a document of expressions.
  if (typeof expression === 'object' && (expression as { _bsontype?: unknown })._bsontype !== undefined)
    return () => expression;
  if (
    typeof expression === 'object' &&
    !Array.isArray(expression) &&
    !(expression instanceof Date) &&
    !(expression instanceof ObjectId)
  ) {
    const keys = Object.keys(expression);
    if (keys.length === 1 && keys[0]?.startsWith('$'))
      return compileOperator(keys[0], (expression as Document)[keys[0]]);
    if (keys.length > 0 && keys.every((key) => !key.startsWith('$') && !key.includes('.'))) {
      // An object of expressions ({status: '$status', server: '$params.modelServer'}); missing fields are left out, as in MongoDB.
      const fields = keys.map((key) => [key, compile((expression as Document)[key])] as const);
      return (doc) => {
        const out: Document = {};
        for (const [key, value] of fields) {
          const computed = value(doc);
          if (computed !== undefined) out[key] = computed;
        }
        return out;
      };
    }
  }
  throw new NeedsEngine();
}

/**
 * Groups by key as MongoDB does: scalars by value (1 and 1.0 together, null with missing), dates and
 * ObjectIds by their value too; other key types go to the general engine.
 */
class GroupTable<T> {
  private readonly scalars = new Map<unknown, T>();
  private readonly tagged = new Map<string, T>();

  private slot(key: unknown): { map: Map<unknown, T>; key: unknown } {
    if (key === null || key === undefined) return { map: this.scalars, key: null };
    if (typeof key === 'string' || typeof key === 'number' || typeof key === 'boolean')
      return { map: this.scalars, key };
    if (key instanceof Date) return { map: this.tagged as Map<unknown, T>, key: `t${key.getTime()}` };
    if (key instanceof ObjectId) return { map: this.tagged as Map<unknown, T>, key: `o${key.toHexString()}` };
    // Numbers of every BSON type group by exact value (int 7, long 7, double 7.0 and decimal 7.0 together;
    // decimal 0.1 apart from double 0.1): a value no double holds is keyed by its exact digits.
    if (isNumberObject(key)) {
      const slot = exactNumberSlot(key);
      return typeof slot === 'number'
        ? { map: this.scalars, key: slot }
        : { map: this.tagged as Map<unknown, T>, key: slot };
    }
    if (typeof key === 'object' && !Array.isArray(key)) {
      // The same tag as `j` + entries joined, built without intermediate arrays (one per document).
      let tag = 'j';
      let separator = '';
      for (const field of Object.keys(key)) {
        tag += `${separator}${field}\u0000${this.tagOf((key as Document)[field])}`;
        separator = '\u0001';
      }
      return { map: this.tagged as Map<unknown, T>, key: tag };
    }
    throw new NeedsEngine();
  }

  /** A scalar inside a compound key, tagged by type so that 1 and "1" stay apart. */
  private tagOf(value: unknown): string {
    if (value === null) return 'n';
    if (typeof value === 'string') return `s${value}`;
    if (typeof value === 'number') return `d${value}`;
    if (typeof value === 'boolean') return `b${value}`;
    if (value instanceof Date) return `t${value.getTime()}`;
    if (value instanceof ObjectId) return `o${value.toHexString()}`;
    if (isNumberObject(value)) {
      const slot = exactNumberSlot(value);
      return typeof slot === 'number' ? `d${slot}` : slot;
    }
    throw new NeedsEngine();
  }

  get(key: unknown): T | undefined {
    // Strings and numbers (nearly every key) are looked up without building a slot.
    if (typeof key === 'string' || typeof key === 'number') return this.scalars.get(key);
    const { map, key: slot } = this.slot(key);
    return map.get(slot);
  }

  set(key: unknown, value: T): void {
    const { map, key: slot } = this.slot(key);
    map.set(slot, value);
  }

  values(): T[] {
    return [...this.scalars.values(), ...this.tagged.values()];
  }
}

interface Accumulator {
  add(doc: Document): void;
  result(): unknown;
}

type AccumulatorFactory = () => Accumulator;

function compileAccumulator(spec: unknown): AccumulatorFactory {
  if (spec === null || typeof spec !== 'object' || Array.isArray(spec)) throw new NeedsEngine();
  const [name, ...others] = Object.keys(spec);
  if (!name || others.length > 0) throw new NeedsEngine();
  const operand = (spec as Document)[name];
  if (name === '$count') {
    if (operand === null || typeof operand !== 'object' || Object.keys(operand).length > 0)
      throw new NeedsEngine();
    return () => {
      let count = 0;
      return { add: () => void (count += 1), result: () => count };
    };
  }
  const value = compile(operand);
  switch (name) {
    case '$sum':
      return () => {
        // Plain numbers only (ints and doubles); mongod's double-double sum types and rounds the total.
        const sum = new MongoSum();
        return {
          add: (doc) => {
            const item = value(doc);
            if (typeof item === 'number') sum.add(item);
            else if (item !== null && item !== undefined && typeof item === 'object') throw new NeedsEngine();
          },
          result: () => sum.value(),
        };
      };
    case '$avg':
      return () => {
        const mean = new MongoMean();
        return {
          add: (doc) => {
            const item = value(doc);
            if (typeof item === 'number') mean.add(item);
            else if (item !== null && item !== undefined && typeof item === 'object') throw new NeedsEngine();
          },
          result: () => mean.value(),
        };
      };
    case '$max':
    case '$min': {
      const sign = name === '$max' ? 1 : -1;
      return () => {
        let best: unknown;
        return {
          add: (doc) => {
            const item = value(doc);
            if (item === null || item === undefined) return;
            if (best === undefined || compareValue(item, best) * sign > 0) best = item;
          },
          result: () => best ?? null,
        };
      };
    }
    case '$push':
      return () => {
        const items: unknown[] = [];
        return {
          add: (doc) => void items.push(value(doc)),
          result: () => items.filter((item) => item !== undefined),
        };
      };
    case '$first':
      return () => {
        let seen = false;
        let first: unknown = null;
        return {
          add: (doc) => {
            if (seen) return;
            seen = true;
            first = value(doc) ?? null;
          },
          result: () => first,
        };
      };
    case '$last':
      return () => {
        let last: unknown = null;
        return { add: (doc) => void (last = value(doc) ?? null), result: () => last };
      };
    default:
      throw new NeedsEngine();
  }
}

/** Runs a `$group` stage natively when it can; undefined means the general engine must. */
export function fastGroup(docs: Document[], spec: Document): Document[] | undefined {
  try {
    const { _id: idSpec, ...fields } = spec;
    if (!('_id' in spec)) return undefined;
    const idOf = compile(idSpec);
    const accumulators = Object.entries(fields).map(([field, accumulator]) => {
      if (field.includes('.') || field.startsWith('$')) throw new NeedsEngine();
      return [field, compileAccumulator(accumulator)] as const;
    });
    const groups = new GroupTable<{ id: unknown; state: Accumulator[] }>();
    for (const doc of docs) {
      const id = idOf(doc);
      let group = groups.get(id);
      if (!group) {
        group = { id: id ?? null, state: accumulators.map(([, make]) => make()) };
        groups.set(id, group);
      }
      for (const accumulator of group.state) accumulator.add(doc);
    }
    return [...groups.values()].map(({ id, state }) => {
      const out: Document = { _id: id };
      accumulators.forEach(([field], index) => {
        out[field] = state[index]?.result();
      });
      return out;
    });
  } catch (error) {
    if (error instanceof NeedsEngine) return undefined;
    throw error;
  }
}

type SortKeys = ReadonlyArray<readonly [string, 1 | -1]>;

function sortKeysOf(spec: unknown): SortKeys | undefined {
  if (spec === null || typeof spec !== 'object' || Array.isArray(spec)) return undefined;
  const keys = Object.entries(spec as Document).map(
    ([field, direction]) => [field, direction === -1 ? -1 : 1] as const,
  );
  const plain =
    keys.every(([field]) => !field.startsWith('$')) &&
    Object.values(spec as Document).every((direction) => direction === 1 || direction === -1);
  return plain && keys.length > 0 ? keys : undefined;
}

function orderOf(a: unknown[], b: unknown[], keys: SortKeys): number {
  for (let position = 0; position < keys.length; position += 1) {
    const order = compareValue(a[position], b[position]) * (keys[position]?.[1] ?? 1);
    if (order !== 0) return order;
  }
  return 0;
}

/** The documents' sort values, or undefined when one is an array (MongoDB then sorts by its extreme element). */
function decorate(docs: Document[], keys: SortKeys): Array<{ doc: Document; values: unknown[] }> | undefined {
  const decorated: Array<{ doc: Document; values: unknown[] }> = new Array(docs.length);
  for (let index = 0; index < docs.length; index += 1) {
    const doc = docs[index] as Document;
    const values = keys.map(([field]) => getPath(doc, field));
    if (values.some(Array.isArray)) return undefined;
    decorated[index] = { doc, values };
  }
  return decorated;
}

/** A document's sort value at `field`; a missing field sorts as null, as MongoDB treats the two alike. */
function getPath(doc: Document, field: string): unknown {
  let value: unknown = doc;
  for (const part of field.split('.')) {
    if (value === null || value === undefined || typeof value !== 'object') return null;
    if (Array.isArray(value)) return value;
    value = (value as Document)[part];
  }
  return value ?? null;
}

/** A `$sort` stage on field paths, sorting once on extracted values; undefined when arrays are involved. */
export function fastSort(docs: Document[], spec: unknown): Document[] | undefined {
  const keys = sortKeysOf(spec);
  if (keys?.length === 1) {
    const byNumber = sortByNumber(docs, keys[0] as readonly [string, 1 | -1]);
    if (byNumber) return byNumber;
  }
  const decorated = keys && decorate(docs, keys);
  if (!keys || !decorated) return undefined;
  decorated.sort((a, b) => orderOf(a.values, b.values, keys));
  return decorated.map(({ doc }) => doc);
}

/**
 * One sort key whose values are all plain numbers other than NaN (durations, counts): compared as numbers,
 * which is BSON order for them, without the general comparison; undefined for any other value.
 */
function sortByNumber(
  docs: Document[],
  [field, direction]: readonly [string, 1 | -1],
): Document[] | undefined {
  const path = field.split('.');
  const values = new Float64Array(docs.length);
  for (let index = 0; index < docs.length; index += 1) {
    let value: unknown = docs[index];
    for (const part of path) {
      if (value === null || typeof value !== 'object' || Array.isArray(value)) return undefined;
      value = (value as Document)[part];
    }
    if (typeof value !== 'number' || Number.isNaN(value)) return undefined;
    values[index] = value;
  }
  const order = Array.from({ length: docs.length }, (_, index) => index);
  // Array.prototype.sort is stable: equal values keep their input order, as in the general sort.
  order.sort((a, b) => ((values[a] as number) - (values[b] as number)) * direction);
  return order.map((index) => docs[index] as Document);
}

/**
 * The first `limit` documents in sort order without sorting them all (a bounded insertion list), for
 * `find` with a small limit over many documents; undefined when arrays are involved.
 */
export function firstInOrder(docs: Document[], spec: unknown, limit: number): Document[] | undefined {
  const keys = sortKeysOf(spec);
  if (!keys) return undefined;
  const kept: Array<{ doc: Document; values: unknown[] }> = [];
  for (const doc of docs) {
    const values = keys.map(([field]) => getPath(doc, field));
    if (values.some(Array.isArray)) return undefined;
    if (
      kept.length === limit &&
      orderOf(values, (kept[kept.length - 1] as { values: unknown[] }).values, keys) >= 0
    )
      continue;
    let position = kept.length;
    while (position > 0 && orderOf(values, (kept[position - 1] as { values: unknown[] }).values, keys) < 0)
      position -= 1;
    kept.splice(position, 0, { doc, values });
    if (kept.length > limit) kept.pop();
  }
  return kept.map(({ doc }) => doc);
}

type Predicate = (doc: Document) => boolean;

/** The BSON type class values compare within (a range never matches across classes, as in MongoDB). */
function typeClass(value: unknown): string | undefined {
  if (typeof value === 'number') return 'number';
  if (typeof value === 'string') return 'string';
  if (value instanceof Date) return 'date';
  if (value instanceof ObjectId) return 'objectId';
  if (typeof value === 'boolean') return 'boolean';
  if (isNumberObject(value)) return 'number';
  return undefined;
}

function sameValue(a: unknown, b: unknown): boolean {
  // equals compares the stored integers; reading `.id` would allocate a buffer per comparison.
  if (a instanceof ObjectId) return b instanceof ObjectId && a.equals(b);
  if (a instanceof Date) return b instanceof Date && a.getTime() === b.getTime();
  if (a === b) return true;
  // Numbers of different BSON types are equal by value (int 7, long 7, double 7.0).
  return (
    (typeof a === 'object' || (typeof b === 'object' && b !== null)) &&
    typeClass(a) === 'number' &&
    typeClass(b) === 'number' &&
    compareValue(a, b) === 0
  );
}

/** The field's value; arrays (which match element-wise in MongoDB) make the general engine answer. */
function scalarAt(doc: Document, path: readonly string[]): unknown {
  let value: unknown = doc;
  for (const part of path) {
    if (value === null || value === undefined) return undefined;
    if (Array.isArray(value)) throw new NeedsEngine();
    if (typeof value !== 'object' || value instanceof Date || value instanceof ObjectId) return undefined;
    value = (value as Document)[part];
  }
  if (Array.isArray(value)) throw new NeedsEngine();
  return value;
}

const RANGES: Record<string, (order: number) => boolean> = {
  $gt: (order) => order > 0,
  $gte: (order) => order >= 0,
  $lt: (order) => order < 0,
  $lte: (order) => order <= 0,
};

function conditionOn(path: readonly string[], condition: unknown): Predicate {
  // A regular expression matches by pattern, and `{}` is an equality with the empty document: neither is
  // an (empty) list of operators.
  if (condition instanceof RegExp) throw new NeedsEngine();
  const isOperatorObject =
    condition !== null &&
    typeof condition === 'object' &&
    !Array.isArray(condition) &&
    !(condition instanceof Date) &&
    !(condition instanceof ObjectId);
  if (!isOperatorObject) {
    if (condition === null) return (doc) => scalarAt(doc, path) == null;
    if (typeClass(condition) === undefined) throw new NeedsEngine();
    return (doc) => sameValue(condition, scalarAt(doc, path));
  }
  const operators = Object.entries(condition as Document);
  if (operators.length === 0) throw new NeedsEngine();
  const parts = operators.map(([operator, operand]): Predicate => {
    const range = RANGES[operator];
    if (range) {
      const kind = typeClass(operand);
      if (kind === undefined || kind === 'boolean') throw new NeedsEngine();
      if (operand instanceof Date) {
        // Dates order by their instant: compared as numbers, without the general comparison.
        const instant = operand.getTime();
        return (doc) => {
          const value = scalarAt(doc, path);
          return value instanceof Date && range(value.getTime() - instant);
        };
      }
      return (doc) => {
        const value = scalarAt(doc, path);
        return typeClass(value) === kind && range(compareValue(value, operand));
      };
    }
    if (operator === '$eq') return conditionOn(path, operand);
    if (operator === '$ne') {
      const equal = conditionOn(path, operand);
      return (doc) => !equal(doc);
    }
    if (operator === '$in' || operator === '$nin') {
      if (!Array.isArray(operand)) throw new NeedsEngine();
      const options = operand.map((item) => conditionOn(path, item));
      const listed = (doc: Document) => options.some((option) => option(doc));
      return operator === '$in' ? listed : (doc) => !listed(doc);
    }
    if (operator === '$type' && (operand === 'number' || operand === 'string' || operand === 'date')) {
      return (doc) => typeClass(scalarAt(doc, path)) === operand;
    }
    throw new NeedsEngine();
  });
  return allOf(parts);
}

function compileFilter(filter: Document): Predicate {
  const parts = Object.entries(filter).map(([field, condition]): Predicate => {
    if (field === '$and') {
      // An empty $and is an error the general engine reports.
      if (!Array.isArray(condition) || condition.length === 0) throw new NeedsEngine();
      const all = condition.map((item) => compileFilter(item as Document));
      return (doc) => all.every((part) => part(doc));
    }
    if (field.startsWith('$')) throw new NeedsEngine();
    return conditionOn(field.split('.'), condition);
  });
  return allOf(parts);
}

/** A test passing when every part does: a plain loop, as it runs once per document. */
function allOf(parts: Predicate[]): Predicate {
  if (parts.length === 1) return parts[0] as Predicate;
  return (doc) => {
    for (const part of parts) if (!part(doc)) return false;
    return true;
  };
}

/**
 * A filter of equalities, ranges, $ne, $in, $nin and $and as a native test; undefined when it needs the general
 * engine. The test throws `NeedsEngine` when a document holds an array on the way.
 */
export function nativePredicate(filter: Document | undefined): ((doc: Document) => boolean) | undefined {
  if (!filter || Object.keys(filter).length === 0) return () => true;
  try {
    return compileFilter(filter);
  } catch (error) {
    if (error instanceof NeedsEngine) return undefined;
    throw error;
  }
}

/**
 * The documents matching a filter of equalities, ranges, $ne, $in, $nin and $and on scalar fields, tested by a
 * compiled predicate; undefined when the filter (or an array met on the way) needs the general engine.
 */
export function fastFilter(docs: Document[], filter: Document | undefined): Document[] | undefined {
  if (!filter || Object.keys(filter).length === 0) return docs;
  try {
    return docs.filter(compileFilter(filter));
  } catch (error) {
    if (error instanceof NeedsEngine) return undefined;
    throw error;
  }
}
