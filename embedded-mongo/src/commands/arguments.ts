import type { Document } from 'bson';

import { numericKind, toJsNumber } from '../bson-numbers.js';
import { ErrorCode, MongoServerError } from '../errors.js';

/** Typed reads of command fields, failing with MongoDB's TypeMismatch as the server does. */
export function optionalDocument(command: Document, field: string): Document | undefined {
  const value = command[field];
  if (value === undefined || value === null) return undefined;
  if (typeof value !== 'object' || Array.isArray(value)) {
    throw new MongoServerError(
      ErrorCode.TypeMismatch,
      `BSON field '${field}' is the wrong type '${Array.isArray(value) ? 'array' : typeof value}', expected type 'object'`,
    );
  }
  return value as Document;
}

export function optionalNumber(command: Document, field: string): number | undefined {
  const raw: unknown = command[field];
  if (raw === undefined || raw === null) return undefined;
  // Any numeric BSON type is accepted, as mongod does (drivers send int64 or double for some fields).
  const value = typeof raw === 'object' && numericKind(raw) ? toJsNumber(raw) : raw;
  if (typeof value !== 'number' || !Number.isFinite(value)) {
    throw new MongoServerError(
      ErrorCode.TypeMismatch,
      `BSON field '${field}' is the wrong type '${typeof value}', expected a number`,
    );
  }
  if (value < 0)
    throw new MongoServerError(
      ErrorCode.BadValue,
      `BSON field '${field}' value must be >= 0, actual value '${value}'`,
    );
  return Math.trunc(value);
}

export function documentArray(command: Document, field: string): Document[] {
  const value = command[field];
  if (!Array.isArray(value)) {
    throw new MongoServerError(ErrorCode.TypeMismatch, `BSON field '${field}' is missing or not an array`);
  }
  for (const item of value) {
    if (item === null || typeof item !== 'object' || Array.isArray(item)) {
      throw new MongoServerError(ErrorCode.TypeMismatch, `BSON field '${field}' must contain only objects`);
    }
  }
  return value as Document[];
}

/** The collection name a command's first field names. */
export function collectionName(command: Document): string {
  const [name] = Object.keys(command);
  const value = name === undefined ? undefined : command[name];
  if (typeof value !== 'string' || value.length === 0) {
    throw new MongoServerError(
      ErrorCode.InvalidNamespace,
      `collection name has invalid type ${typeof value}`,
    );
  }
  return value;
}
