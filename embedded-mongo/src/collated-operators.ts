import type { Document } from 'bson';
import { evalExpr } from 'mingo/core';
import { Lazy, type Iterator } from 'mingo/lazy';
import * as pipelineOperators from 'mingo/operators/pipeline';
import type { Options } from 'mingo/types';
import { resolve, typeOf } from 'mingo/util';

import { CollationKeys, type Collation } from './collation.js';
import { refusingRegex } from './regex-arguments.js';

type QueryOperator = (selector: string, value: unknown, options: Options) => (doc: Document) => boolean;
type ExpressionOperator = (doc: Document, expr: unknown, options: Options) => unknown;
type PipelineOperator = (collection: Iterator, expr: unknown, options: Options) => Iterator;
type AccumulatorOperator = (
  collection: unknown[],
  expr: unknown,
  options: Options & { options?: Options },
) => unknown;

/** The values a path holds for a query: the value, and when it is an array its elements too (one level of nesting). */
function candidatesAt(doc: Document, selector: string): unknown[] {
  const value = resolve(doc, selector, { unwrapArray: true }) as unknown;
  if (!Array.isArray(value)) return [value];
  return [value, ...value, ...value.filter(Array.isArray).flat()];
}

function isNil(value: unknown): boolean {
  return value === null || value === undefined;
}

/**
 * The query, expression and pipeline operators whose result depends on how strings compare, rewritten to
 * compare through a collation (strings nested in documents and arrays too); every other operator is the
 * engine's own.
 */
export function collatedOperators(collation: Collation): {
  query: Record<string, QueryOperator>;
  expression: Record<string, ExpressionOperator>;
  pipeline: Record<string, PipelineOperator>;
  accumulator: Record<string, AccumulatorOperator>;
} {
  const { compare } = collation;
  const equals = (a: unknown, b: unknown): boolean => compare(a, b) === 0;

  const matchesEquality = (values: unknown[], operand: unknown): boolean => {
    if (operand instanceof RegExp)
      return values.some((value) => typeof value === 'string' && operand.test(value));
    if (operand === null) return values.some(isNil);
    return values.some((value) => value !== undefined && equals(value, operand));
  };

  const $eq: QueryOperator = (selector, operand) => (doc) =>
    matchesEquality(candidatesAt(doc, selector), operand);
  const $in: QueryOperator = (selector, operand) => {
    const options = Array.isArray(operand) ? (operand as unknown[]) : [];
    return (doc) => {
      const values = candidatesAt(doc, selector);
      return options.some((option) => matchesEquality(values, option));
    };
  };
  const range =
    (test: (order: number) => boolean): QueryOperator =>
    (selector, operand) =>
    (doc) => {
      const value = resolve(doc, selector, { unwrapArray: true }) as unknown;
      const values = Array.isArray(value) ? value : [value];
      // Ranges stay within one BSON type, as in MongoDB.
      return values.some((item) => typeOf(item) === typeOf(operand) && test(compare(item, operand)));
    };

  const evaluatePair = (doc: Document, expr: unknown, options: Options): [unknown, unknown] => {
    const values = evalExpr(doc as never, expr as never, options) as unknown;
    if (!Array.isArray(values) || values.length !== 2)
      throw new Error('comparison expressions expect an array of two arguments');
    return [values[0], values[1]];
  };
  const comparison =
    (test: (order: number) => unknown): ExpressionOperator =>
    (doc, expr, options) => {
      const [a, b] = evaluatePair(doc, expr, options);
      return test(compare(a, b));
    };

  const $sort: PipelineOperator = (collection, spec) =>
    collection.transform((items: unknown) => {
      const keys = Object.entries(spec as Document).map(
        ([field, direction]) => [field, direction === -1 ? -1 : 1] as const,
      );
      const sortValue = (doc: Document, field: string, direction: number): unknown => {
        const value = resolve(doc, field) as unknown;
        if (!Array.isArray(value)) return value;
        // An array sorts by its smallest element ascending and its largest descending.
        let extreme: unknown;
        for (const item of value)
          if (extreme === undefined || compare(item, extreme) * direction < 0) extreme = item;
        return extreme;
      };
      const decorated = (items as Document[]).map((doc) => ({
        doc,
        values: keys.map(([field, direction]) => sortValue(doc, field, direction)),
      }));
      decorated.sort((a, b) => {
        for (let position = 0; position < keys.length; position += 1) {
          const order = compare(a.values[position], b.values[position]) * (keys[position]?.[1] ?? 1);
          if (order !== 0) return order;
        }
        return 0;
      });
      return Lazy(decorated.map(({ doc }) => doc));
    });

  // Groups are formed by collated keys; each group is then accumulated by the engine's own $group.
  const $group: PipelineOperator = (collection, spec, options) =>
    collection.transform((items: unknown) => {
      const { _id: idExpression } = spec as Document;
      const keys = new CollationKeys(collation);
      const groups = new Map<string, { id: unknown; docs: Document[] }>();
      for (const doc of items as Document[]) {
        const id = (evalExpr(doc as never, idExpression as never, options) as unknown) ?? null;
        const key = keys.keyOf(id);
        const group = groups.get(key);
        if (group) group.docs.push(doc);
        else groups.set(key, { id, docs: [doc] });
      }
      const results: Document[] = [];
      for (const { id, docs } of groups.values()) {
        const [result] = pipelineOperators
          .$group(Lazy(docs), { ...(spec as Document), _id: { $literal: id } }, options)
          .collect() as Document[];
        if (result) results.push(result);
      }
      return Lazy(results);
    });

  /** Each document's value of an accumulator's expression, missing ones left out (as mongod does). */
  const accumulated = (collection: unknown[], expr: unknown, options: Options & { options?: Options }) => {
    const plain = options.options ?? options;
    const values: unknown[] = [];
    for (const doc of collection) {
      const value = evalExpr(doc as never, expr as never, plain as never) as unknown;
      if (value !== undefined) values.push(value);
    }
    return values;
  };
  const extreme =
    (sign: 1 | -1): AccumulatorOperator =>
    (collection, expr, options) => {
      let best: unknown = null;
      for (const value of accumulated(collection, expr, options)) {
        if (value === null) continue;
        if (best === null || compare(value, best) * sign > 0) best = value;
      }
      return best;
    };

  // The localField/foreignField form joins on collated keys; other forms run their sub-pipeline collated.
  const $lookup: PipelineOperator = (collection, spec, options) => {
    const { from, localField, foreignField, as, pipeline, let: variables } = spec as Document;
    if (
      typeof from !== 'string' ||
      typeof localField !== 'string' ||
      typeof foreignField !== 'string' ||
      typeof as !== 'string' ||
      pipeline !== undefined ||
      variables !== undefined ||
      !options.collectionResolver
    )
      return pipelineOperators.$lookup(collection, spec as never, options);
    const keys = new CollationKeys(collation);
    const byKey = new Map<string, Document[]>();
    for (const foreign of options.collectionResolver(from) as Document[]) {
      const value = (resolve(foreign, foreignField) as unknown) ?? null;
      for (const item of Array.isArray(value) ? value : [value]) {
        const key = keys.keyOf(item);
        const joined = byKey.get(key);
        if (joined) {
          if (!joined.includes(foreign)) joined.push(foreign);
        } else byKey.set(key, [foreign]);
      }
    }
    const joinedTo = (value: unknown): Document[] => {
      const key = keys.lookupKey(value);
      return key === undefined ? [] : (byKey.get(key) ?? []);
    };
    return collection.map((doc: Document) => {
      const local = (resolve(doc, localField) as unknown) ?? null;
      const joined = Array.isArray(local) ? [...new Set(local.flatMap(joinedTo))] : joinedTo(local);
      return { ...doc, [as]: joined };
    });
  };

  return {
    accumulator: {
      $max: extreme(1),
      $min: extreme(-1),
      $addToSet: (collection, expr, options) => {
        const keys = new CollationKeys(collation);
        const seen = new Set<string>();
        return accumulated(collection, expr, options).filter((value) => {
          const key = keys.keyOf(value);
          if (seen.has(key)) return false;
          seen.add(key);
          return true;
        });
      },
    },
    query: refusingRegex({
      $eq,
      $ne: (selector, operand, options) => {
        const equal = $eq(selector, operand, options);
        return (doc) => !equal(doc);
      },
      $in,
      $nin: (selector, operand, options) => {
        const within = $in(selector, operand, options);
        return (doc) => !within(doc);
      },
      $gt: range((order) => order > 0),
      $gte: range((order) => order >= 0),
      $lt: range((order) => order < 0),
      $lte: range((order) => order <= 0),
    }),
    expression: {
      $eq: comparison((order) => order === 0),
      $ne: comparison((order) => order !== 0),
      $gt: comparison((order) => order > 0),
      $gte: comparison((order) => order >= 0),
      $lt: comparison((order) => order < 0),
      $lte: comparison((order) => order <= 0),
      $cmp: comparison((order) => order),
      $in: (doc, expr, options) => {
        const [value, array] = evaluatePair(doc, expr, options);
        if (!Array.isArray(array)) throw new Error('$in requires an array as a second argument');
        return array.some((item) => equals(value, item));
      },
    },
    pipeline: {
      $sort,
      $group,
      $lookup,
      $sortByCount: (collection, expr, options) =>
        $sort($group(collection, { _id: expr, count: { $sum: 1 } }, options), { count: -1 }, options),
    },
  };
}
