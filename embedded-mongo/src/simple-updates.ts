import type { Document } from 'bson';
import { cloneDeep, compare, isEqual, numericUpdate } from 'mingo/util';

import { numericKind } from './bson-numbers.js';
import { findPathConflict, isIndexName, isPlainObject } from './update-paths.js';

/**
 * `$set`, `$unset`, `$inc`, `$max` and `$min` of fields and of dotted paths through embedded documents,
 * applied directly the way mingo's update operators apply them (the same equality test, ordering, deep copy
 * and `$inc` hook, operators and fields in the order given, missing embedded documents created on the way).
 * mingo builds its operator context afresh for every update, which costs far more than such an update;
 * anything beyond this shape (a path through an array, null or other value, an array index, positional or
 * array filters, `_id`, other operators, paths that overlap) is left to mingo, which also raises the errors.
 */

const SIMPLE_OPERATORS = new Set(['$set', '$unset', '$inc', '$max', '$min']);
/** Assigning `__proto__` would set a prototype rather than a field: left to mingo. */
const PROTOTYPE_SETTER = '__proto__';

/** A document's own field (never one inherited from Object.prototype, such as `constructor`). */
function ownField(doc: Document, name: string): unknown {
  return Object.hasOwn(doc, name) ? doc[name] : undefined;
}

function isPlainFieldName(name: string): boolean {
  return name !== '' && !name.includes('$') && !isIndexName(name) && name !== PROTOTYPE_SETTER;
}

/** The steps of a path the simple updates take, or undefined. */
function plainPath(path: string): string[] | undefined {
  const steps = path.split('.');
  if (steps[0] === '_id' || !steps.every(isPlainFieldName)) return undefined;
  return steps;
}

/** True when every embedded step of the path in `doc` is missing or an embedded document. */
function isWalkable(doc: Document, steps: string[]): boolean {
  let current: Document = doc;
  for (let index = 0; index < steps.length - 1; index += 1) {
    const next: unknown = ownField(current, steps[index] as string);
    if (next === undefined) return true;
    if (!isPlainObject(next)) return false;
    current = next;
  }
  return true;
}

interface Step {
  operator: string;
  steps: string[];
  value: unknown;
}

/** The update as steps in the order mingo applies them, or undefined when it is not of the simple shape. */
function simpleSteps(doc: Document, operators: Document): Step[] | undefined {
  const planned: Step[] = [];
  for (const operator of Object.keys(operators)) {
    const fields: unknown = operators[operator];
    if (!SIMPLE_OPERATORS.has(operator) || !isPlainObject(fields)) return undefined;
    for (const path of Object.keys(fields)) {
      const steps = plainPath(path);
      if (!steps || !isWalkable(doc, steps)) return undefined;
      if (operator === '$inc' && numericKind(fields[path]) === undefined) return undefined;
      planned.push({ operator, steps, value: fields[path] });
    }
  }
  return findPathConflict(planned.map((step) => step.steps.join('.'))) ? undefined : planned;
}

/** The embedded document holding a path's last step, made on the way when missing (not for `$unset`). */
function parentOf(doc: Document, steps: string[], create: boolean): Document | undefined {
  let current = doc;
  for (let index = 0; index < steps.length - 1; index += 1) {
    const step = steps[index] as string;
    let next = ownField(current, step);
    if (next === undefined) {
      if (!create) return undefined;
      next = current[step] = {};
    }
    current = next as Document;
  }
  return current;
}

/** How values compare for `$max` and `$min`: BSON order, strings by the operation's collation. */
export type ValueComparison = (a: unknown, b: unknown) => number;

function applyStep(
  doc: Document,
  { operator, steps, value }: Step,
  increment: NonNullable<typeof numericUpdate.inc>,
  compareValues: ValueComparison,
): void {
  const parent = parentOf(doc, steps, operator !== '$unset');
  if (!parent) return;
  const name = steps[steps.length - 1] as string;
  const current = ownField(parent, name);
  switch (operator) {
    case '$set':
      if (!isEqual(current, value)) parent[name] = cloneDeep(value);
      return;
    case '$unset':
      if (Object.hasOwn(parent, name)) Reflect.deleteProperty(parent, name);
      return;
    case '$inc':
      parent[name] = increment(current, value, name, doc);
      return;
    case '$max':
      if (compareValues(current, value) < 0) parent[name] = cloneDeep(value);
      return;
    case '$min':
      if (current === undefined || compareValues(current, value) > 0) parent[name] = cloneDeep(value);
      return;
  }
}

/**
 * Applies the update operators to `doc` in place and answers true, or answers false (leaving `doc`
 * untouched) when they are not all of the simple shape. `compareValues` is the operation's comparison
 * (its collation's, when it has one).
 */
export function applySimpleUpdate(
  doc: Document,
  operators: Document,
  compareValues: ValueComparison = compare,
): boolean {
  const increment = numericUpdate.inc;
  if (!increment) return false;
  const planned = simpleSteps(doc, operators);
  if (!planned) return false;
  for (const step of planned) applyStep(doc, step, increment, compareValues);
  return true;
}
