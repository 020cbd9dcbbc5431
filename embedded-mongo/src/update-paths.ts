import { ObjectId, type Document } from 'bson';

import { numericKind, toBigInt, toJsNumber } from './bson-numbers.js';
import { ErrorCode, MongoServerError } from './errors.js';

/** Where two paths of one update collide, as mongod names it: the path being added, and the path it conflicts at. */
export interface PathConflict {
  path: string;
  at: string;
}

/**
 * The first conflict among an update's field paths, taken in order as mongod parses them: a path named
 * twice, or lying inside another (`a` and `a.b`). A path inside one seen before conflicts at that one; a
 * path that holds one seen before (or repeats it) conflicts at itself.
 */
export function findPathConflict(paths: Iterable<string>): PathConflict | undefined {
  const seen = new Set<string>();
  const holders = new Set<string>();
  for (const path of paths) {
    const prefixes: string[] = [];
    for (let dot = path.indexOf('.'); dot !== -1; dot = path.indexOf('.', dot + 1))
      prefixes.push(path.slice(0, dot));
    const inside = prefixes.find((prefix) => seen.has(prefix));
    if (inside !== undefined) return { path, at: inside };
    if (seen.has(path) || holders.has(path)) return { path, at: path };
    seen.add(path);
    for (const prefix of prefixes) holders.add(prefix);
  }
  return undefined;
}

/** The update operators that make the fields they name (and the documents on the way) when missing. */
const CREATING_OPERATORS = new Set([
  '$set',
  '$setOnInsert',
  '$inc',
  '$mul',
  '$max',
  '$min',
  '$push',
  '$addToSet',
  '$currentDate',
  '$bit',
]);
const DIGITS = /^\d+$/;

function isPlainObject(value: unknown): value is Document {
  return (
    value !== null &&
    typeof value === 'object' &&
    !Array.isArray(value) &&
    Object.getPrototypeOf(value) === Object.prototype &&
    !('_bsontype' in value)
  );
}

/** A value as mongod prints a BSON element's value in error messages (`"text"`, `5.0`, `[ 1, { b: 2 } ]`). */
function valueText(value: unknown): string {
  if (typeof value === 'string') return JSON.stringify(value);
  if (value === null) return 'null';
  if (Array.isArray(value)) return value.length === 0 ? '[]' : `[ ${value.map(valueText).join(', ')} ]`;
  if (value instanceof Date) return `new Date(${value.getTime()})`;
  if (value instanceof ObjectId) return `ObjectId('${value.toHexString()}')`;
  const kind = numericKind(value);
  if (kind === 'double' && Number.isInteger(toJsNumber(value))) return `${toJsNumber(value)}.0`;
  if (kind === 'long') return toBigInt(value).toString();
  if (kind !== undefined) return kind === 'decimal' ? String(value) : String(toJsNumber(value));
  if (isPlainObject(value)) {
    const fields = Object.entries(value).map(([name, inner]) => `${name}: ${valueText(inner)}`);
    return fields.length === 0 ? '{}' : `{ ${fields.join(', ')} }`;
  }
  return String(value);
}

/**
 * mongod refuses an update that would have to make a field inside a value that cannot hold one: a
 * string, number, null or other scalar, or an array addressed by a name that is not an index
 * (`PathNotViable`, 28). Paths with positional parts are checked up to the first of them.
 */
export function assertPathsViable(doc: Document, operators: Document): void {
  for (const [operator, fields] of Object.entries(operators)) {
    if (!CREATING_OPERATORS.has(operator) || !isPlainObject(fields)) continue;
    for (const path of Object.keys(fields)) assertPathViable(doc, path.split('.'));
  }
}

function assertPathViable(doc: Document, steps: string[]): void {
  let holder: unknown = doc;
  for (let index = 0; index < steps.length - 1; index += 1) {
    const step = steps[index] as string;
    const next = steps[index + 1] as string;
    if (step.startsWith('$') || next.startsWith('$')) return;
    const value: unknown = Array.isArray(holder)
      ? DIGITS.test(step)
        ? holder[Number(step)]
        : undefined
      : (holder as Document)[step];
    if (value === undefined) return;
    const holdsNext = isPlainObject(value) || (Array.isArray(value) && DIGITS.test(next));
    if (!holdsNext)
      throw new MongoServerError(
        ErrorCode.PathNotViable,
        `Cannot create field '${next}' in element {${step}: ${valueText(value)}}`,
      );
    holder = value;
  }
}
