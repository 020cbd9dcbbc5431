import type { Document } from 'bson';
import * as pipelineOperators from 'mingo/operators/pipeline';

import { typeNameOf } from '../bson-types.js';
import { validateDatabaseName } from '../catalog.js';
import type { IndexSpec } from '../collection-index.js';
import { ErrorCode, MongoServerError } from '../errors.js';
import type { CommandContext } from './context.js';

/** mongod's numbered assertions for `$merge` (their code names are `Location<code>`). */
export const MergeErrorCode = {
  Location15998: 15998,
  Location16410: 16410,
  Location16411: 16411,
  Location16866: 16866,
  Location16867: 16867,
  Location16868: 16868,
  Location31319: 31319,
  Location31320: 31320,
  Location31465: 31465,
  Location40323: 40323,
  Location40352: 40352,
  Location40414: 40414,
  Location40415: 40415,
  Location51123: 51123,
  Location51132: 51132,
  Location51134: 51134,
  Location51178: 51178,
  Location51181: 51181,
  Location51183: 51183,
  Location51185: 51185,
  Location51186: 51186,
  Location51187: 51187,
  Location51191: 51191,
  Location51199: 51199,
  Location51273: 51273,
  Location5786800: 5786800,
  Location5786801: 5786801,
} as const;

export type WhenMatchedMode = 'replace' | 'keepExisting' | 'merge' | 'fail';
export type WhenNotMatchedMode = 'insert' | 'discard' | 'fail';

/** A parsed `$merge` stage: where it writes, what identifies a document there, and what it does. */
export interface MergeSpec {
  db: string;
  coll: string;
  /** The `on` field paths (`_id` by default). */
  on: string[];
  /** A mode, or the update pipeline run on a matched document. */
  whenMatched: WhenMatchedMode | Document[];
  whenNotMatched: WhenNotMatchedMode;
  /** Only with a pipeline: the variables it sees, evaluated against each result (`new` is `$$ROOT`). */
  let?: Document;
}

const SPEC_FIELDS = new Set([
  'into',
  'on',
  'let',
  'whenMatched',
  'whenNotMatched',
  'targetCollectionVersion',
]);
const WHEN_MATCHED_MODES = new Set<string>(['replace', 'keepExisting', 'merge', 'fail']);
const WHEN_NOT_MATCHED_MODES = new Set<string>(['insert', 'discard', 'fail']);
/** The whenMatched/whenNotMatched pairs mongod supports; a pipeline works with every whenNotMatched. */
const SUPPORTED_MODES = new Set([
  'replace/insert',
  'replace/fail',
  'replace/discard',
  'merge/insert',
  'merge/fail',
  'merge/discard',
  'keepExisting/insert',
  'fail/insert',
]);
const INTERNAL_DATABASES = new Set(['admin', 'local', 'config']);
const KNOWN_STAGES = new Set(Object.keys(pipelineOperators));

function unknownField(context: string, field: string): MongoServerError {
  return new MongoServerError(
    MergeErrorCode.Location40415,
    `BSON field '${context}.${field}' is an unknown field.`,
  );
}

function wrongType(field: string, value: unknown, expected: string): MongoServerError {
  return new MongoServerError(
    ErrorCode.TypeMismatch,
    `BSON field '${field}' is the wrong type '${typeNameOf(value)}', expected type '${expected}'`,
  );
}

function isPlainObject(value: unknown): value is Document {
  return (
    value !== null &&
    typeof value === 'object' &&
    !Array.isArray(value) &&
    !(value instanceof Date) &&
    !(value instanceof RegExp) &&
    typeof (value as { _bsontype?: unknown })._bsontype !== 'string'
  );
}

/** `into`: a collection name, or `{db, coll}`; the database defaults to the aggregate's. */
function parseInto(value: unknown): { db?: string; coll: string } {
  if (typeof value === 'string') {
    if (value.length === 0)
      throw new MongoServerError(
        MergeErrorCode.Location5786800,
        "$merge 'into' field cannot be an empty string",
      );
    return { coll: value };
  }
  if (!isPlainObject(value))
    throw new MongoServerError(
      MergeErrorCode.Location51178,
      `$merge 'into' field  must be either a string or an object, but found ${typeNameOf(value)}`,
    );
  let db: string | undefined;
  let coll: string | undefined;
  for (const [field, fieldValue] of Object.entries(value)) {
    if (field !== 'db' && field !== 'coll') throw unknownField('into', field);
    if (fieldValue === null || fieldValue === undefined) continue;
    if (typeof fieldValue !== 'string') throw wrongType(`into.${field}`, fieldValue, 'string');
    if (field === 'db') db = fieldValue;
    else coll = fieldValue;
  }
  if (!coll)
    throw new MongoServerError(
      MergeErrorCode.Location5786801,
      "$merge 'into' field must specify a 'coll' that is not empty, null or undefined",
    );
  return db ? { db, coll } : { coll };
}

/** A field path as mongod's FieldPath accepts it. */
function assertFieldPath(path: string): void {
  if (path.length === 0)
    throw new MongoServerError(
      MergeErrorCode.Location40352,
      'FieldPath cannot be constructed with empty string',
    );
  for (const part of path.split('.')) {
    if (part.length === 0)
      throw new MongoServerError(
        MergeErrorCode.Location15998,
        'FieldPath field names may not be empty strings.',
      );
    if (part.startsWith('$'))
      throw new MongoServerError(
        MergeErrorCode.Location16410,
        `FieldPath field names may not start with '$'. Consider using $getField or $setField.`,
      );
    if (part.includes('\0'))
      throw new MongoServerError(
        MergeErrorCode.Location16411,
        "FieldPath field names may not contain '\\0'.",
      );
  }
}

function parseOn(value: unknown): string[] {
  if (typeof value !== 'string' && !Array.isArray(value))
    throw new MongoServerError(
      MergeErrorCode.Location51186,
      `$merge 'on' field  must be either a string or an array of strings, but found ${typeNameOf(value)}`,
    );
  const fields: string[] = [];
  for (const field of typeof value === 'string' ? [value] : (value as unknown[])) {
    if (typeof field !== 'string')
      throw new MongoServerError(
        MergeErrorCode.Location51134,
        `$merge 'on' array elements must be strings, but found ${typeNameOf(field)}`,
      );
    fields.push(field);
  }
  if (fields.length === 0)
    throw new MongoServerError(
      MergeErrorCode.Location51187,
      "If explicitly specifying $merge 'on', must include at least one field",
    );
  return fields;
}

function parseWhenMatched(value: unknown): WhenMatchedMode | Document[] {
  if (Array.isArray(value)) {
    for (const stage of value as unknown[]) {
      if (!isPlainObject(stage))
        throw new MongoServerError(
          ErrorCode.TypeMismatch,
          "Each element of the 'pipeline' array must be an object",
        );
      const names = Object.keys(stage);
      if (names.length !== 1)
        throw new MongoServerError(
          MergeErrorCode.Location40323,
          'A pipeline stage specification object must contain exactly one field.',
        );
      const name = names[0] as string;
      if (!KNOWN_STAGES.has(name))
        throw new MongoServerError(ErrorCode.Location40324, `Unrecognized pipeline stage name: '${name}'`);
    }
    return value as Document[];
  }
  if (typeof value !== 'string')
    throw new MongoServerError(
      MergeErrorCode.Location51191,
      `$merge 'whenMatched' field  must be either a string or an array, but found ${typeNameOf(value)}`,
    );
  if (!WHEN_MATCHED_MODES.has(value))
    throw new MongoServerError(
      ErrorCode.BadValue,
      `Enumeration value '${value}' for field 'whenMatched' is not a valid value.`,
    );
  return value as WhenMatchedMode;
}

function parseWhenNotMatched(value: unknown): WhenNotMatchedMode {
  if (typeof value !== 'string') throw wrongType('$merge.whenNotMatched', value, 'string');
  if (!WHEN_NOT_MATCHED_MODES.has(value))
    throw new MongoServerError(
      ErrorCode.BadValue,
      `Enumeration value '${value}' for field '$merge.whenNotMatched' is not a valid value.`,
    );
  return value as WhenNotMatchedMode;
}

/** A user variable name as mongod allows one in `let`. */
function assertVariableName(name: string): void {
  if (name.length === 0)
    throw new MongoServerError(MergeErrorCode.Location16866, 'empty variable names are not allowed');
  const first = name.codePointAt(0) as number;
  if (!((first >= 0x61 && first <= 0x7a) || first > 0x7f))
    throw new MongoServerError(
      MergeErrorCode.Location16867,
      `'${name}' starts with an invalid character for a user variable name`,
    );
  for (const character of name) {
    const code = character.codePointAt(0) as number;
    if (!(/[A-Za-z0-9_]/.test(character) || code > 0x7f))
      throw new MongoServerError(
        MergeErrorCode.Location16868,
        `'${name}' contains an invalid character for a variable name: '${character}'`,
      );
  }
}

/** Whether the index guarantees one document per value of exactly the `on` fields, as mongod requires. */
function supportsOnFields(spec: IndexSpec, on: ReadonlySet<string>): boolean {
  const unique = spec.unique === true || spec.name === '_id_';
  if (!unique || spec.partialFilterExpression !== undefined) return false;
  const collation = spec.collation as Document | undefined;
  if (collation !== undefined && collation.locale !== 'simple') return false;
  const fields = Object.entries(spec.key);
  return (
    fields.length === on.size &&
    fields.every(([field, direction]) => typeof direction === 'number' && on.has(field))
  );
}

/**
 * Parses a `$merge` stage's argument with mongod's checks and errors, in mongod's order: the
 * specification, the target namespace, the mode pair, the unique index behind `on`, then `let`.
 */
export function parseMergeStage(context: CommandContext, argument: unknown): MergeSpec {
  if (typeof argument !== 'string' && !isPlainObject(argument))
    throw new MongoServerError(
      ErrorCode.TypeMismatch,
      `$merge requires a string or object argument, but found ${typeNameOf(argument)}`,
    );
  let into: { db?: string; coll: string } | undefined;
  let on: string[] | undefined;
  let letVariables: Document | undefined;
  let whenMatched: WhenMatchedMode | Document[] = 'merge';
  let whenNotMatched: WhenNotMatchedMode = 'insert';
  if (typeof argument === 'string') {
    into = { coll: argument };
  } else {
    for (const [field, value] of Object.entries(argument)) {
      if (!SPEC_FIELDS.has(field)) throw unknownField('$merge', field);
      if (field === 'into') into = parseInto(value);
      else if (field === 'on') on = parseOn(value);
      else if (field === 'let') {
        if (!isPlainObject(value)) throw wrongType('$merge.let', value, 'object');
        letVariables = value;
      } else if (field === 'whenMatched') whenMatched = parseWhenMatched(value);
      else if (field === 'whenNotMatched') whenNotMatched = parseWhenNotMatched(value);
      else
        throw new MongoServerError(MergeErrorCode.Location51123, 'Unexpected target chunk version specified');
    }
    if (!into)
      throw new MongoServerError(
        MergeErrorCode.Location40414,
        "BSON field '$merge.into' is missing but a required field",
      );
  }
  const db = into.db ?? context.db;
  const coll = into.coll;
  try {
    validateDatabaseName(db);
  } catch {
    throw new MongoServerError(
      ErrorCode.InvalidNamespace,
      `Invalid $merge target namespace: '${db}.${coll}'`,
    );
  }
  const modeName = Array.isArray(whenMatched) ? 'pipeline' : whenMatched;
  if (Array.isArray(whenMatched) ? false : !SUPPORTED_MODES.has(`${whenMatched}/${whenNotMatched}`))
    throw new MongoServerError(
      MergeErrorCode.Location51181,
      `Combination of $merge modes 'whenMatched: ${modeName}' and 'whenNotMatched: ${whenNotMatched}' is not supported`,
    );

  if (on) {
    const paths = new Set<string>();
    for (const field of on) {
      assertFieldPath(field);
      if (paths.has(field))
        throw new MongoServerError(MergeErrorCode.Location31465, `Found a duplicate field '${field}'`);
      paths.add(field);
    }
    const target = context.catalog.collection(db, coll);
    const supported = target
      ? target.indexSpecs().some((spec) => supportsOnFields(spec, paths))
      : paths.size === 1 && paths.has('_id');
    if (!supported)
      throw new MongoServerError(
        MergeErrorCode.Location51183,
        'Cannot find index to verify that join fields will be unique',
      );
  }

  if (coll.startsWith('system.'))
    throw new MongoServerError(MergeErrorCode.Location31319, `Cannot $merge to special collection: ${coll}`);
  if (INTERNAL_DATABASES.has(db))
    throw new MongoServerError(MergeErrorCode.Location31320, `Cannot $merge to internal database: ${db}`);

  const spec: MergeSpec = { db, coll, on: on ?? ['_id'], whenMatched, whenNotMatched };
  if (Array.isArray(whenMatched)) {
    const variables = letVariables ?? { new: '$$ROOT' };
    if ('new' in variables && variables.new !== '$$ROOT')
      throw new MongoServerError(
        MergeErrorCode.Location51273,
        "'let' may not define a value for the reserved 'new' variable other than '$$ROOT'",
      );
    for (const name of Object.keys(variables)) if (name !== 'CURRENT') assertVariableName(name);
    spec.let =
      !('new' in variables) && whenNotMatched === 'insert' ? { ...variables, new: '$$ROOT' } : variables;
  } else if (letVariables) {
    throw new MongoServerError(
      MergeErrorCode.Location51199,
      `Cannot use 'let' variables with 'whenMatched: ${whenMatched}' mode`,
    );
  }
  return spec;
}
