import type { Document } from 'bson';
import { cloneDeep, isEqual, numericUpdate } from 'mingo/util';

import { numericKind } from './bson-numbers.js';

/**
 * `$set`, `$unset` and `$inc` of top-level fields, applied directly the way mingo's update operators apply
 * them (the same equality test, deep copy and `$inc` hook, operators and fields in the order given).
 * mingo builds its operator context afresh for every update, which costs far more than such an update;
 * anything beyond this shape (paths, positional or array filters, `_id`, other operators, a field named
 * twice) is left to mingo, which also raises the errors.
 */

const SIMPLE_OPERATORS = new Set(['$set', '$unset', '$inc']);
/** Names mingo reads through the prototype (or refuses, `__proto__`): left to it. */
const PROTOTYPE_NAMES = new Set(Object.getOwnPropertyNames(Object.prototype));

function isPlainFieldName(name: string): boolean {
  return (
    name !== '' && name !== '_id' && !name.includes('.') && !name.includes('$') && !PROTOTYPE_NAMES.has(name)
  );
}

function isFieldList(value: unknown): value is Document {
  return (
    value !== null &&
    typeof value === 'object' &&
    Object.getPrototypeOf(value) === Object.prototype &&
    !('_bsontype' in value)
  );
}

/** True when every operator and field is of the simple shape, each field named once. */
function isSimple(operators: Document): boolean {
  const named = new Set<string>();
  for (const operator of Object.keys(operators)) {
    const fields: unknown = operators[operator];
    if (!SIMPLE_OPERATORS.has(operator) || !isFieldList(fields)) return false;
    for (const name of Object.keys(fields)) {
      if (!isPlainFieldName(name) || named.has(name)) return false;
      if (operator === '$inc' && numericKind(fields[name]) === undefined) return false;
      named.add(name);
    }
  }
  return true;
}

/**
 * Applies the update operators to `doc` in place and answers true, or answers false (leaving `doc`
 * untouched) when they are not all of the simple shape.
 */
export function applySimpleUpdate(doc: Document, operators: Document): boolean {
  const increment = numericUpdate.inc;
  if (!increment || !isSimple(operators)) return false;
  for (const operator of Object.keys(operators)) {
    const fields = operators[operator] as Document;
    for (const name of Object.keys(fields)) {
      const value: unknown = fields[name];
      if (operator === '$set') {
        if (!isEqual(doc[name], value)) doc[name] = cloneDeep(value);
      } else if (operator === '$unset') {
        if (Object.hasOwn(doc, name)) Reflect.deleteProperty(doc, name);
      } else {
        doc[name] = increment(doc[name], value, name, doc);
      }
    }
  }
  return true;
}
