import { ObjectId, type Document } from 'bson';

import { numericKind, toBigInt, toJsNumber } from './bson-numbers.js';
import { typeNameOf } from './bson-types.js';
import { ErrorCode, MongoServerError } from './errors.js';

/** Where two paths of one update collide, as mongod names it: the path being added, and the path it conflicts at. */
export interface PathConflict {
  path: string;
  at: string;
}

/**
 * The paths of one update as mongod adds them to its update tree, in order: a path named twice, or lying
 * inside another (`a` and `a.b`), collides. A path inside one added before conflicts at that one; a path
 * that holds one added before (or repeats it) conflicts at itself.
 */
class UpdatePaths {
  private readonly seen = new Set<string>();
  private readonly holders = new Set<string>();

  add(path: string): PathConflict | undefined {
    const prefixes: string[] = [];
    for (let dot = path.indexOf('.'); dot !== -1; dot = path.indexOf('.', dot + 1))
      prefixes.push(path.slice(0, dot));
    const inside = prefixes.find((prefix) => this.seen.has(prefix));
    if (inside !== undefined) return { path, at: inside };
    if (this.seen.has(path) || this.holders.has(path)) return { path, at: path };
    this.seen.add(path);
    for (const prefix of prefixes) this.holders.add(prefix);
    return undefined;
  }
}

/** The first conflict among an update's field paths, taken in order. */
export function findPathConflict(paths: Iterable<string>): PathConflict | undefined {
  const added = new UpdatePaths();
  for (const path of paths) {
    const conflict = added.add(path);
    if (conflict) return conflict;
  }
  return undefined;
}

const UPDATE_OPERATORS = new Set([
  '$set',
  '$unset',
  '$inc',
  '$mul',
  '$rename',
  '$setOnInsert',
  '$min',
  '$max',
  '$currentDate',
  '$addToSet',
  '$pop',
  '$pull',
  '$push',
  '$pullAll',
  '$bit',
]);
const ARITHMETIC_NAMES: Record<string, string> = { $inc: 'increment', $mul: 'multiply' };

function checkFieldPath(path: string): void {
  if (path === '') throw new MongoServerError(ErrorCode.EmptyFieldName, 'An empty update path is not valid.');
  if (path.split('.').includes(''))
    throw new MongoServerError(
      ErrorCode.EmptyFieldName,
      `The update path '${path}' contains an empty field name, which is not allowed.`,
    );
}

/**
 * What mongod checks while it parses an operator update, before it reads any document, in its order:
 * operators by name and shape (9), empty field names (56), `$inc`/`$mul` arguments (14), `$rename`
 * targets (2), and paths that collide (40; `$rename`'s source and target both take part).
 */
export function checkOperatorUpdate(spec: Document): void {
  const added = new UpdatePaths();
  const add = (path: string): void => {
    checkFieldPath(path);
    const conflict = added.add(path);
    if (conflict)
      throw new MongoServerError(
        ErrorCode.ConflictingUpdateOperators,
        `Updating the path '${conflict.path}' would create a conflict at '${conflict.at}'`,
      );
  };
  for (const operator of Object.keys(spec)) {
    if (!UPDATE_OPERATORS.has(operator))
      throw new MongoServerError(
        ErrorCode.FailedToParse,
        `Unknown modifier: ${operator}. Expected a valid update modifier or pipeline-style update specified as an array`,
      );
    const fields: unknown = spec[operator];
    if (!isPlainObject(fields))
      throw new MongoServerError(
        ErrorCode.FailedToParse,
        `Modifiers operate on fields but we found type ${typeNameOf(fields)} instead. For example: {$mod: {<field>: ...}} not {${operator}: ${valueText(fields)}}`,
      );
    for (const [path, value] of Object.entries(fields)) {
      const arithmetic = ARITHMETIC_NAMES[operator];
      if (arithmetic && numericKind(value) === undefined) {
        checkFieldPath(path);
        throw new MongoServerError(
          ErrorCode.TypeMismatch,
          `Cannot ${arithmetic} with non-numeric argument: {${path}: ${valueText(value)}}`,
        );
      }
      add(path);
      if (operator !== '$rename') continue;
      if (typeof value !== 'string')
        throw new MongoServerError(
          ErrorCode.BadValue,
          `The 'to' field for $rename must be a string: ${path}: ${valueText(value)}`,
        );
      add(value);
    }
  }
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

/** A field name that addresses an array element by index (`0`, `12`). */
export function isIndexName(name: string): boolean {
  return DIGITS.test(name);
}

/** An embedded document as stored: a plain object, not an array, Date or other BSON value. */
export function isPlainObject(value: unknown): value is Document {
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
 * (`PathNotViable`, 28), for the operators that make fields and `$rename`'s targets. Paths with positional
 * parts are checked up to the first of them.
 */
export function assertPathsViable(doc: Document, operators: Document): void {
  for (const [operator, fields] of Object.entries(operators)) {
    if (!isPlainObject(fields)) continue;
    if (operator === '$rename') {
      for (const target of Object.values(fields))
        if (typeof target === 'string') assertPathViable(doc, target.split('.'));
    } else if (CREATING_OPERATORS.has(operator)) {
      for (const path of Object.keys(fields)) assertPathViable(doc, path.split('.'));
    }
  }
}

function assertPathViable(doc: Document, steps: string[]): void {
  let holder: unknown = doc;
  for (let index = 0; index < steps.length - 1; index += 1) {
    const step = steps[index] as string;
    const next = steps[index + 1] as string;
    if (step.startsWith('$') || next.startsWith('$')) return;
    const value: unknown = Array.isArray(holder)
      ? isIndexName(step)
        ? holder[Number(step)]
        : undefined
      : Object.hasOwn(holder as Document, step)
        ? (holder as Document)[step]
        : undefined;
    if (value === undefined) return;
    const holdsNext = isPlainObject(value) || (Array.isArray(value) && isIndexName(next));
    if (!holdsNext)
      throw new MongoServerError(
        ErrorCode.PathNotViable,
        `Cannot create field '${next}' in element {${step}: ${valueText(value)}}`,
      );
    holder = value;
  }
}
