import type { Document } from 'bson';

import { toJsNumber } from '../bson-numbers.js';
import { isDocument, isNumeric, typeNameOf } from '../bson-types.js';
import { ErrorCode, MongoServerError } from '../errors.js';
import {
  CANONICAL_NAMES,
  COMMAND_FIELDS,
  GENERIC_ARGUMENTS,
  WRITE_CONCERN,
  type FieldSpec,
  type StructSpec,
} from './command-field-table.js';

/**
 * The check of a command against its fields (command-field-table.ts) with mongod's codes and messages:
 * 40415 for an unknown field, 40414 for a missing one, TypeMismatch (14) for a wrong type, 51024 for a
 * value out of range; readConcern, writeConcern and maxTimeMS parsed as mongod's own parsers do.
 */

const READ_CONCERN_LEVELS = new Set(['local', 'majority', 'linearizable', 'available', 'snapshot']);
const READ_CONCERN_TIMESTAMPS = new Set(['afterClusterTime', 'atClusterTime']);

function typeMismatch(path: string, value: unknown, expected: string[]): MongoServerError {
  const wanted =
    expected.length === 1 ? `expected type '${expected[0]}'` : `expected types '[${expected.join(', ')}']'`;
  return new MongoServerError(
    ErrorCode.TypeMismatch,
    `BSON field '${path}' is the wrong type '${typeNameOf(value)}', ${wanted}`,
  );
}

const NUMBER_TYPES = ['long', 'int', 'decimal', 'double'];

function checkType(parent: string, name: string, value: unknown, spec: FieldSpec): void {
  // An explicit null in a required field counts as missing, as in mongod's IDL parsers.
  if (value === null && spec.required) throw missingField(parent, name);
  checkValueType(parent, name, value, spec);
  if (spec.unemulated && value !== false)
    throw new MongoServerError(
      ErrorCode.CommandNotSupported,
      `BSON field '${parent}.${name}' is not supported by the embedded server`,
    );
}

function checkValueType(parent: string, name: string, value: unknown, spec: FieldSpec): void {
  switch (spec.type) {
    case 'any':
      return;
    case 'object':
      if (!isDocument(value)) throw typeMismatch(`${parent}.${name}`, value, ['object']);
      if (spec.struct) checkStruct(`${parent}.${name}`, value, spec.struct);
      return;
    case 'array':
      if (!Array.isArray(value)) throw typeMismatch(`${parent}.${name}`, value, ['array']);
      if (spec.items) {
        for (const item of value) {
          if (!isDocument(item)) throw typeMismatch(`${parent}.${name}`, item, ['object']);
          checkStruct(`${parent}.${name}`, item, spec.items);
        }
      }
      return;
    case 'string':
      if (typeof value !== 'string') throw typeMismatch(`${parent}.${name}`, value, ['string']);
      return;
    case 'bool':
      if (typeof value !== 'boolean') throw typeMismatch(`${parent}.${name}`, value, ['bool']);
      return;
    case 'safeBool':
      if (typeof value !== 'boolean' && !isNumeric(value))
        throw typeMismatch(`${parent}.${name}`, value, ['bool', ...NUMBER_TYPES]);
      return;
    case 'optionalBool':
      if (typeof value !== 'boolean')
        throw new MongoServerError(
          ErrorCode.TypeMismatch,
          `Field '${name}' should be a boolean value, but found: ${typeNameOf(value)}`,
        );
      return;
    case 'number':
      if (!isNumeric(value)) throw typeMismatch(`${parent}.${name}`, value, NUMBER_TYPES);
      if (spec.gte !== undefined && toJsNumber(value) < spec.gte)
        throw new MongoServerError(
          ErrorCode.Location51024,
          `BSON field '${name}' value must be >= ${spec.gte}, actual value '${toJsNumber(value)}'`,
        );
      return;
    case 'int':
      if (typeNameOf(value) !== 'int') throw typeMismatch(`${parent}.${name}`, value, ['int']);
      return;
    case 'uuid':
      if (typeNameOf(value) !== 'binData') throw typeMismatch(`${parent}.${name}`, value, ['binData']);
      return;
    case 'indexHint':
      // IndexHint::parse has its own error rather than the IDL's type mismatch.
      if (typeof value !== 'string' && !isDocument(value))
        throw new MongoServerError(ErrorCode.FailedToParse, 'Hint must be a string or an object');
      return;
    case 'countLimit':
      if (!isNumeric(value))
        throw new MongoServerError(ErrorCode.BadValue, 'limit value is not a valid number');
      return;
    case 'maxTimeMS':
      checkMaxTimeMS(name, value);
      return;
    case 'readConcern':
      checkReadConcern(value);
      return;
    case 'writeConcern':
      checkWriteConcern(value);
      return;
  }
}

/** mongod's parseMaxTimeMS: a non-negative integral number below 2^31. */
function checkMaxTimeMS(name: string, value: unknown): void {
  if (!isNumeric(value)) throw new MongoServerError(ErrorCode.BadValue, `${name} must be a number`);
  const number = toJsNumber(value);
  if (number < 0 || number > 2_147_483_647)
    throw new MongoServerError(ErrorCode.BadValue, `${name} is out of range`);
  if (!Number.isInteger(number))
    throw new MongoServerError(ErrorCode.BadValue, `${name} has non-integral value`);
}

/** ReadConcernArgs::parse of mongod 7.0 (hand-written there, hence its own codes and messages). */
function checkReadConcern(value: unknown): void {
  if (!isDocument(value))
    throw new MongoServerError(ErrorCode.FailedToParse, 'readConcern field should be an object');
  for (const [name, setting] of Object.entries(value)) {
    if (name === 'level') {
      if (typeof setting !== 'string')
        throw new MongoServerError(
          ErrorCode.TypeMismatch,
          `"level" had the wrong type. Expected string, found ${typeNameOf(setting)}`,
        );
      if (!READ_CONCERN_LEVELS.has(setting))
        throw new MongoServerError(
          ErrorCode.FailedToParse,
          "readConcern.level must be either 'local', 'majority', 'linearizable', 'available', or 'snapshot'",
        );
    } else if (READ_CONCERN_TIMESTAMPS.has(name)) {
      if (typeNameOf(setting) !== 'timestamp')
        throw new MongoServerError(
          ErrorCode.TypeMismatch,
          `"${name}" had the wrong type. Expected timestamp, found ${typeNameOf(setting)}`,
        );
    } else if (
      name !== 'afterOpTime' &&
      name !== 'provenance' &&
      name !== '$_allowTransactionTableSnapshot'
    ) {
      throw new MongoServerError(ErrorCode.InvalidOptions, `Unrecognized option in readConcern: ${name}`);
    }
  }
}

/** WriteConcernOptions::extractWCFromCommand and the strict WriteConcernIdl of mongod 7.0. */
function checkWriteConcern(value: unknown): void {
  if (!isDocument(value))
    throw new MongoServerError(
      ErrorCode.TypeMismatch,
      `"writeConcern" had the wrong type. Expected object, found ${typeNameOf(value)}`,
    );
  if (Object.keys(value).length === 0) return;
  checkStruct('writeConcern', value, WRITE_CONCERN);
  const w = value.w;
  if (w !== undefined && w !== null && typeof w !== 'string' && !isNumeric(w))
    throw new MongoServerError(ErrorCode.FailedToParse, 'w has to be a number or string');
  if (isNumeric(w) && (toJsNumber(w) < 0 || toJsNumber(w) > 50))
    throw new MongoServerError(
      ErrorCode.FailedToParse,
      'w has to be a non-negative number and not greater than 50',
    );
  if (value.j === true && value.fsync === true)
    throw new MongoServerError(ErrorCode.FailedToParse, 'fsync and j options cannot be used together');
}

function checkStruct(path: string, doc: Record<string, unknown>, spec: StructSpec): void {
  for (const name in doc) {
    const fieldSpec = Object.hasOwn(spec.fields, name) ? spec.fields[name] : undefined;
    if (!fieldSpec) {
      if (spec.strict) throw unknownField(`${path}.${name}`);
      continue;
    }
    checkType(path, name, doc[name], fieldSpec);
  }
  checkRequired(path, doc, spec);
}

function checkRequired(path: string, doc: Record<string, unknown>, spec: StructSpec): void {
  for (const name of spec.required) {
    if (doc[name] === undefined) throw missingField(path, name);
  }
}

function missingField(parent: string, name: string): MongoServerError {
  return new MongoServerError(
    ErrorCode.Location40414,
    `BSON field '${parent}.${name}' is missing but a required field`,
  );
}

function unknownField(path: string): MongoServerError {
  return new MongoServerError(ErrorCode.Location40415, `BSON field '${path}' is an unknown field.`);
}

/**
 * Checks a command's fields against its IDL: its own fields, the generic arguments and the nested
 * documents they hold. The command name (the first field) is checked by the handler.
 */
export function validateCommandFields(name: string, command: Document): void {
  const canonical = CANONICAL_NAMES[name] ?? name;
  const spec = Object.hasOwn(COMMAND_FIELDS, canonical) ? COMMAND_FIELDS[canonical] : undefined;
  let first = true;
  for (const fieldName in command) {
    if (first) {
      first = false;
      continue;
    }
    const value: unknown = command[fieldName];
    const own = spec && Object.hasOwn(spec.fields, fieldName) ? spec.fields[fieldName] : undefined;
    const generic = Object.hasOwn(GENERIC_ARGUMENTS, fieldName) ? GENERIC_ARGUMENTS[fieldName] : undefined;
    const fieldSpec = own ?? generic;
    if (!fieldSpec) {
      if (spec?.strict) throw unknownField(`${canonical}.${fieldName}`);
      continue;
    }
    checkType(canonical, fieldName, value, fieldSpec);
  }
  if (spec) checkRequired(canonical, command, spec);
}
