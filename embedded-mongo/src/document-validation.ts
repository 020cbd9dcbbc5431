import type { Document } from 'bson';

import { isDocument, typeNameOf } from './bson-types.js';
import { valuesAtPath } from './document-paths.js';
import { ErrorCode, MongoServerError } from './errors.js';
import { schemaErrorDetails } from './json-schema.js';
import { compileFilter, runPipeline } from './query-engine.js';

/**
 * A collection's document validation (`validator`, `validationLevel`, `validationAction`): checks a
 * written document and, when it fails, explains why with mongod's errInfo shape.
 */

export type ValidationWarningSink = (message: string) => void;

const VALIDATION_LEVELS = ['off', 'strict', 'moderate'];
const VALIDATION_ACTIONS = ['error', 'warn'];
/** Operators a validator may not use, as mongod refuses them in this context. */
const REFUSED_OPERATORS: Record<string, string> = {
  $text: '$text is not allowed in this context',
  $where: '$where is not allowed in this context',
  $near: '$geoNear, $near, and $nearSphere are not allowed in this context',
  $nearSphere: '$geoNear, $near, and $nearSphere are not allowed in this context',
  $geoNear: '$geoNear, $near, and $nearSphere are not allowed in this context',
};

/** Reasons for a failing leaf operator: as it failed, and as it matched where a match is the failure. */
const LEAF_REASONS: Record<string, [string, string]> = {
  $eq: ['comparison failed', 'comparison succeeded'],
  $gt: ['comparison failed', 'comparison succeeded'],
  $gte: ['comparison failed', 'comparison succeeded'],
  $lt: ['comparison failed', 'comparison succeeded'],
  $lte: ['comparison failed', 'comparison succeeded'],
  $ne: ['comparison succeeded', 'comparison failed'],
  $in: ['no matching value found in array', 'matching value found in array'],
  $nin: ['matching value found in array', 'no matching value found in array'],
  $exists: ['path does not exist', 'path does exist'],
  $type: ['type did not match', 'type did match'],
  $regex: ['regular expression did not match', 'regular expression did match'],
  $size: ['array length was not equal to given size', 'array length was equal to given size'],
  $all: ['array did not contain all specified values', 'array did contain all specified values'],
  $elemMatch: ['array did not satisfy the child predicate', 'array did satisfy the child predicate'],
  $mod: ['$mod did not evaluate to expected remainder', '$mod did evaluate to expected remainder'],
  $bitsAllSet: ['bitwise operator failed to match', 'bitwise operator matched successfully'],
  $bitsAllClear: ['bitwise operator failed to match', 'bitwise operator matched successfully'],
  $bitsAnySet: ['bitwise operator failed to match', 'bitwise operator matched successfully'],
  $bitsAnyClear: ['bitwise operator failed to match', 'bitwise operator matched successfully'],
};

function refuseOperators(value: unknown): void {
  if (Array.isArray(value)) {
    for (const item of value) refuseOperators(item);
    return;
  }
  if (!isDocument(value)) return;
  for (const [key, nested] of Object.entries(value)) {
    const refusal = REFUSED_OPERATORS[key];
    if (refusal) throw new MongoServerError(ErrorCode.BadValue, refusal);
    if (key !== '$jsonSchema' && key !== '$expr') refuseOperators(nested);
  }
}

function enumeration(command: string, field: string, value: unknown, allowed: string[]): string {
  if (typeof value !== 'string')
    throw new MongoServerError(
      ErrorCode.TypeMismatch,
      `BSON field '${command}.${field}' is the wrong type '${typeNameOf(value)}', expected type 'string'`,
    );
  if (!allowed.includes(value))
    throw new MongoServerError(
      ErrorCode.BadValue,
      `Enumeration value '${value}' for field '${command}.${field}' is not a valid value.`,
    );
  return value;
}

/**
 * Checks the validation options of a create or collMod command (`command` names it in errors) as mongod
 * does: the validator must parse (with `$jsonSchema` checked keyword by keyword), levels and actions
 * must be known.
 */
export function checkValidationOptions(command: string, options: Document): void {
  if (options.validator !== undefined) {
    if (!isDocument(options.validator))
      throw new MongoServerError(
        ErrorCode.TypeMismatch,
        `BSON field '${command}.validator' is the wrong type '${typeNameOf(options.validator)}', expected type 'object'`,
      );
    refuseOperators(options.validator);
    compileFilter(options.validator);
  }
  if (options.validationLevel !== undefined)
    enumeration(command, 'validationLevel', options.validationLevel, VALIDATION_LEVELS);
  if (options.validationAction !== undefined)
    enumeration(command, 'validationAction', options.validationAction, VALIDATION_ACTIONS);
}

/** One top-level condition of a validator: a field's operator, a logical operator, or `$expr`/`$jsonSchema`. */
interface Clause {
  filter: Document;
  operator: string;
  path?: string;
  argument: unknown;
}

function clausesOf(filter: Document): Clause[] {
  const clauses: Clause[] = [];
  for (const [key, value] of Object.entries(filter)) {
    if (key === '$comment') continue;
    if (key.startsWith('$')) {
      clauses.push({ filter: { [key]: value }, operator: key, argument: value });
      continue;
    }
    const operators =
      isDocument(value) &&
      Object.keys(value).length > 0 &&
      Object.keys(value).every((op) => op.startsWith('$'))
        ? Object.entries(value).filter(([op]) => op !== '$options')
        : undefined;
    if (!operators) {
      clauses.push({ filter: { [key]: value }, operator: '$eq', path: key, argument: value });
      continue;
    }
    for (const [op, argument] of operators) {
      const condition: Document = { [op]: argument };
      if (op === '$regex' && (value as Document).$options !== undefined)
        condition.$options = (value as Document).$options;
      clauses.push({ filter: { [key]: condition }, operator: op, path: key, argument });
    }
  }
  return clauses;
}

function passes(filter: Document, doc: Document): boolean {
  return compileFilter(filter).test(doc);
}

/** The values a path holds for errInfo: none (missing), one `consideredValue`, or `consideredValues`. */
function consideredValues(doc: Document, path: string): Document | undefined {
  const values = valuesAtPath(doc, path).filter((value) => value !== undefined);
  if (values.length === 0) return undefined;
  return values.length === 1 ? { consideredValue: values[0] } : { consideredValues: values };
}

function leafDetails(clause: Clause, doc: Document, inverted: boolean): Document {
  const path = clause.path as string;
  const details: Document = {
    operatorName: clause.operator,
    specifiedAs: clause.filter,
  };
  const considered = consideredValues(doc, path);
  const [normal, invertedReason] = LEAF_REASONS[clause.operator] ?? [
    'expression did not match',
    'expression did match',
  ];
  if (clause.operator === '$exists') {
    details.reason = inverted ? invertedReason : normal;
    return details;
  }
  details.reason = considered ? (inverted ? invertedReason : normal) : 'field was missing';
  if (considered) Object.assign(details, considered);
  if (considered && clause.operator === '$type') {
    const types = [...new Set(valuesAtPath(doc, path).map(typeNameOf))];
    if (types.length === 1) details.consideredType = types[0];
    else details.consideredTypes = types;
  }
  return details;
}

function expressionResult(expression: unknown, doc: Document): unknown {
  const [result] = runPipeline(
    [doc],
    [{ $project: { _id: 0, result: { $let: { vars: {}, in: expression } } } }],
    {},
    { copyInput: true },
  );
  return result?.result ?? null;
}

function clauseDetails(clause: Clause, doc: Document, inverted: boolean): Document {
  switch (clause.operator) {
    case '$jsonSchema':
      return inverted
        ? { operatorName: '$jsonSchema', reason: 'schema matched' }
        : schemaErrorDetails(clause.argument as Document, doc);
    case '$expr':
      return {
        operatorName: '$expr',
        specifiedAs: clause.filter,
        reason: inverted ? 'expression did match' : 'expression did not match',
        expressionResult: expressionResult(clause.argument, doc),
      };
    case '$and':
    case '$or':
    case '$nor':
      return logicalDetails(clause.operator, clause.argument as Document[], doc, inverted);
    case '$alwaysFalse':
    case '$alwaysTrue':
      return {
        operatorName: clause.operator,
        specifiedAs: clause.filter,
        reason: inverted ? 'expression always evaluates to true' : 'expression always evaluates to false',
      };
    default:
      if (clause.path !== undefined && clause.operator === '$not')
        return {
          operatorName: '$not',
          details: fieldDetails(clause.path, clause.argument as Document, doc, !inverted),
        };
      return leafDetails(clause, doc, inverted);
  }
}

function fieldDetails(path: string, condition: Document, doc: Document, inverted: boolean): Document {
  const filter = isDocument(condition) ? { [path]: condition } : { [path]: { $regex: condition } };
  return filterDetails(filter, doc, inverted);
}

/**
 * $and reports the clauses that failed, $or (all of which failed) every clause, $nor the clauses that
 * matched; inverted (under $nor or $not), the clauses that made the match.
 */
function logicalDetails(operator: string, filters: Document[], doc: Document, inverted: boolean): Document {
  const failingWhenMatched = operator === '$nor' ? !inverted : inverted;
  const childInverted = operator === '$nor' ? !inverted : inverted;
  const reported = filters
    .map((filter, index) => ({ filter, index }))
    .filter(({ filter }) => passes(filter, doc) === failingWhenMatched)
    .map(({ filter, index }) => ({ index, details: filterDetails(filter, doc, childInverted) }));
  const key = inverted ? 'clausesSatisfied' : 'clausesNotSatisfied';
  return { operatorName: operator, [key]: reported };
}

/** errInfo's details for a filter the document fails (or, inverted, matches where it must not). */
function filterDetails(filter: Document, doc: Document, inverted: boolean): Document {
  const clauses = clausesOf(filter);
  if (clauses.length === 1) return clauseDetails(clauses[0] as Clause, doc, inverted);
  const reported = clauses
    .map((clause, index) => ({ clause, index }))
    .filter(({ clause }) => passes(clause.filter, doc) === inverted)
    .map(({ clause, index }) => ({ index, details: clauseDetails(clause, doc, inverted) }));
  return { operatorName: '$and', [inverted ? 'clausesSatisfied' : 'clausesNotSatisfied']: reported };
}

export class DocumentValidator {
  private readonly validator: Document;
  private readonly level: string;
  private readonly action: string;
  private readonly test: (doc: Document) => boolean;
  private readonly namespace: string;
  private readonly warn: ValidationWarningSink;

  private constructor(namespace: string, options: Document, warn: ValidationWarningSink) {
    this.namespace = namespace;
    this.validator = options.validator as Document;
    this.level = (options.validationLevel as string | undefined) ?? 'strict';
    this.action = (options.validationAction as string | undefined) ?? 'error';
    const query = compileFilter(this.validator);
    this.test = (doc) => query.test(doc);
    this.warn = warn;
  }

  /** The validation a collection's options ask for, or undefined when none applies. */
  static fromOptions(
    namespace: string,
    options: Document,
    warn: ValidationWarningSink,
  ): DocumentValidator | undefined {
    if (!isDocument(options.validator) || Object.keys(options.validator).length === 0) return undefined;
    if (options.validationLevel === 'off') return undefined;
    return new DocumentValidator(namespace, options, warn);
  }

  /**
   * Checks a document about to be written; `previous` is the stored version an update replaces
   * (under the moderate level, updates of documents that already failed are not checked).
   */
  check(doc: Document, previous?: Document): void {
    if (previous !== undefined && this.level === 'moderate' && !this.test(previous)) return;
    if (this.test(doc)) return;
    const errInfo = { failingDocumentId: doc._id, details: filterDetails(this.validator, doc, false) };
    if (this.action === 'warn') {
      // The document itself is not logged: it may hold values that must stay out of logs.
      this.warn(
        `Document would fail validation: namespace ${this.namespace}, _id ${JSON.stringify(doc._id)}`,
      );
      return;
    }
    throw new MongoServerError(ErrorCode.DocumentValidationFailure, 'Document failed validation', {
      errInfo,
    });
  }
}
