import type { Document } from 'bson';

import { isDocument, numericValue, typeNameOf } from './bson-types.js';
import { ErrorCode, MongoServerError } from './errors.js';
import { compareValues } from './value-order.js';

const NUMERIC_TYPES = new Set(['int', 'long', 'double', 'decimal']);

/** Every alias `bsonType` accepts ('number' stands for the four numeric types). */
const BSON_TYPE_ALIASES = new Set([
  'double',
  'string',
  'object',
  'array',
  'binData',
  'undefined',
  'objectId',
  'bool',
  'date',
  'null',
  'regex',
  'dbPointer',
  'javascript',
  'symbol',
  'javascriptWithScope',
  'int',
  'timestamp',
  'long',
  'decimal',
  'minKey',
  'maxKey',
  'number',
]);

/**
 * MongoDB's `$jsonSchema` (draft 4 plus `bsonType`): schemas are checked once when parsed, with
 * mongod's errors, and a document is evaluated into the list of rules it does not satisfy, shaped as
 * mongod's document-validation errInfo (`schemaRulesNotSatisfied`). An empty list means it matches.
 */

const UNSUPPORTED_KEYWORDS = new Set(['$ref', '$schema', 'default', 'definitions', 'format', 'id']);
const KEYWORDS = new Set([
  'type',
  'bsonType',
  'required',
  'properties',
  'additionalProperties',
  'patternProperties',
  'enum',
  'minimum',
  'maximum',
  'exclusiveMinimum',
  'exclusiveMaximum',
  'multipleOf',
  'minLength',
  'maxLength',
  'pattern',
  'items',
  'additionalItems',
  'minItems',
  'maxItems',
  'uniqueItems',
  'minProperties',
  'maxProperties',
  'dependencies',
  'allOf',
  'anyOf',
  'oneOf',
  'not',
  'title',
  'description',
]);
const JSON_TYPES: Record<string, string[]> = {
  object: ['object'],
  array: ['array'],
  number: [...NUMERIC_TYPES],
  boolean: ['bool'],
  string: ['string'],
  null: ['null'],
};

type Detail = Document;

function failedToParse(message: string): MongoServerError {
  return new MongoServerError(ErrorCode.FailedToParse, message);
}

function typeMismatch(message: string): MongoServerError {
  return new MongoServerError(ErrorCode.TypeMismatch, message);
}

function isObject(value: unknown): value is Document {
  return isDocument(value);
}

function typeList(keyword: 'type' | 'bsonType', spec: unknown): string[] {
  const names = Array.isArray(spec) ? spec : [spec];
  if (names.length === 0 || names.some((name) => typeof name !== 'string'))
    throw typeMismatch(`$jsonSchema keyword '${keyword}' must be either a string or an array of strings`);
  for (const name of names as string[]) {
    if (keyword === 'bsonType' && !BSON_TYPE_ALIASES.has(name))
      throw new MongoServerError(ErrorCode.BadValue, `Unknown type name alias: ${name}`);
    if (keyword === 'type') {
      if (name === 'integer') throw failedToParse(`$jsonSchema type 'integer' is not currently supported.`);
      if (!Object.hasOwn(JSON_TYPES, name))
        throw new MongoServerError(ErrorCode.BadValue, `Unknown $jsonSchema type: ${name}`);
    }
  }
  return names as string[];
}

function assertNumber(keyword: string, value: unknown): void {
  if (numericValue(value) === undefined)
    throw typeMismatch(`$jsonSchema keyword '${keyword}' must be a number`);
}

function assertCount(keyword: string, value: unknown): void {
  const count = numericValue(value);
  if (count === undefined) throw typeMismatch(`$jsonSchema keyword '${keyword}' must be a number`);
  if (!Number.isInteger(count) || count < 0)
    throw failedToParse(`$jsonSchema keyword '${keyword}' must be a non-negative integral number`);
}

function assertSchemaArray(keyword: string, value: unknown): void {
  if (!Array.isArray(value)) throw typeMismatch(`$jsonSchema keyword '${keyword}' must be an array`);
  if (value.length === 0) throw failedToParse(`$jsonSchema keyword '${keyword}' must be a non-empty array`);
  for (const item of value) {
    if (!isObject(item))
      throw typeMismatch(
        `$jsonSchema keyword '${keyword}' must be an array of objects, but found an element of type ${typeNameOf(item)}`,
      );
    parseSchema(item);
  }
}

function assertDistinctValues(keyword: string, values: unknown[]): void {
  if (firstDuplicate(values))
    throw failedToParse(`$jsonSchema keyword '${keyword}' array cannot contain duplicate values`);
}

const compiledPatterns = new Map<string, RegExp>();

/** A schema's regular expression, compiled once (mongod's PCRE patterns read the same in JavaScript). */
function compilePattern(keyword: string, source: string): RegExp {
  let regex = compiledPatterns.get(source);
  if (regex) return regex;
  try {
    regex = new RegExp(source);
  } catch {
    throw new MongoServerError(51091, `Regular expression is invalid: ${keyword} '${source}'`);
  }
  if (compiledPatterns.size > 1000) compiledPatterns.clear();
  compiledPatterns.set(source, regex);
  return regex;
}

/** Checks a schema as mongod's parser does, throwing its error for the first problem found. */
export function parseSchema(schema: unknown): void {
  if (!isObject(schema)) throw typeMismatch('$jsonSchema must be an object');
  for (const [keyword, value] of Object.entries(schema)) {
    if (UNSUPPORTED_KEYWORDS.has(keyword))
      throw failedToParse(`$jsonSchema keyword '${keyword}' is not currently supported`);
    if (!KEYWORDS.has(keyword)) throw failedToParse(`Unknown $jsonSchema keyword: ${keyword}`);
    switch (keyword) {
      case 'type':
      case 'bsonType':
        typeList(keyword, value);
        break;
      case 'title':
      case 'description':
        if (typeof value !== 'string')
          throw typeMismatch(`$jsonSchema keyword '${keyword}' must be of type string`);
        break;
      case 'minimum':
      case 'maximum':
        assertNumber(keyword, value);
        break;
      case 'multipleOf':
        assertNumber(keyword, value);
        if ((numericValue(value) as number) <= 0)
          throw failedToParse(`$jsonSchema keyword 'multipleOf' must have a positive value`);
        break;
      case 'exclusiveMinimum':
      case 'exclusiveMaximum': {
        if (typeof value !== 'boolean')
          throw typeMismatch(`$jsonSchema keyword '${keyword}' must be a boolean`);
        const bound = keyword === 'exclusiveMinimum' ? 'minimum' : 'maximum';
        if (!(bound in schema))
          throw failedToParse(`$jsonSchema keyword '${bound}' must be a present if ${keyword} is present`);
        break;
      }
      case 'minLength':
      case 'maxLength':
      case 'minItems':
      case 'maxItems':
      case 'minProperties':
      case 'maxProperties':
        assertCount(keyword, value);
        break;
      case 'pattern':
        if (typeof value !== 'string') throw typeMismatch(`$jsonSchema keyword 'pattern' must be a string`);
        compilePattern(keyword, value);
        break;
      case 'uniqueItems':
        if (typeof value !== 'boolean')
          throw typeMismatch(`$jsonSchema keyword 'uniqueItems' must be a boolean`);
        break;
      case 'required':
        if (!Array.isArray(value)) throw typeMismatch(`$jsonSchema keyword 'required' must be an array`);
        if (value.length === 0)
          throw failedToParse(`$jsonSchema keyword 'required' cannot be an empty array`);
        if (value.some((name) => typeof name !== 'string'))
          throw typeMismatch(`$jsonSchema keyword 'required' must contain only strings`);
        assertDistinctValues(keyword, value);
        break;
      case 'enum':
        if (!Array.isArray(value)) throw typeMismatch(`$jsonSchema keyword 'enum' must be an array`);
        if (value.length === 0) throw failedToParse(`$jsonSchema keyword 'enum' cannot be an empty array`);
        assertDistinctValues(keyword, value);
        break;
      case 'properties':
        if (!isObject(value)) throw typeMismatch(`$jsonSchema keyword 'properties' must be an object`);
        for (const [name, nested] of Object.entries(value)) {
          if (!isObject(nested))
            throw typeMismatch(`Nested schema for $jsonSchema property '${name}' must be an object`);
          parseSchema(nested);
        }
        break;
      case 'patternProperties':
        if (!isObject(value)) throw typeMismatch(`$jsonSchema keyword 'patternProperties' must be an object`);
        for (const [pattern, nested] of Object.entries(value)) {
          compilePattern(keyword, pattern);
          if (!isObject(nested))
            throw typeMismatch(
              `$jsonSchema keyword 'patternProperties' has property '${pattern}' which is not an object`,
            );
          parseSchema(nested);
        }
        break;
      case 'additionalProperties':
      case 'additionalItems':
        if (typeof value === 'boolean') break;
        if (!isObject(value))
          throw typeMismatch(
            `$jsonSchema keyword '${keyword}' must be either an object or a boolean, but got a ${typeNameOf(value)}`,
          );
        parseSchema(value);
        break;
      case 'items':
        if (Array.isArray(value)) {
          for (const item of value) {
            if (!isObject(item))
              throw typeMismatch(
                `$jsonSchema keyword 'items' requires that each element of the array is an object, but found a ${typeNameOf(item)}`,
              );
            parseSchema(item);
          }
        } else if (isObject(value)) parseSchema(value);
        else
          throw typeMismatch(
            `$jsonSchema keyword 'items' must be an array or an object, not ${typeNameOf(value)}`,
          );
        break;
      case 'dependencies':
        if (!isObject(value)) throw typeMismatch(`$jsonSchema keyword 'dependencies' must be an object`);
        for (const [name, dependency] of Object.entries(value)) {
          if (isObject(dependency)) parseSchema(dependency);
          else if (Array.isArray(dependency)) {
            if (dependency.length === 0 || dependency.some((item) => typeof item !== 'string'))
              throw failedToParse(
                `property '${name}' in $jsonSchema keyword 'dependencies' must be a non-empty array of strings`,
              );
          } else
            throw typeMismatch(
              `property '${name}' in $jsonSchema keyword 'dependencies' must be either an object or an array`,
            );
        }
        break;
      case 'allOf':
      case 'anyOf':
      case 'oneOf':
        assertSchemaArray(keyword, value);
        break;
      case 'not':
        if (!isObject(value)) throw typeMismatch(`$jsonSchema keyword 'not' must be an object`);
        parseSchema(value);
        break;
    }
  }
  if ('type' in schema && 'bsonType' in schema)
    throw failedToParse(`Cannot specify both $jsonSchema keywords 'type' and 'bsonType'`);
}

/** A schema's `title` and `description`, which mongod repeats beside the errors they explain. */
function annotations(schema: Document): Document {
  const found: Document = {};
  if (typeof schema.title === 'string') found.title = schema.title;
  if (typeof schema.description === 'string') found.description = schema.description;
  return found;
}

function matchesType(keyword: 'type' | 'bsonType', spec: unknown, value: unknown): boolean {
  const actual = typeNameOf(value);
  return (Array.isArray(spec) ? spec : [spec]).some((name: string) => {
    if (keyword === 'type') return (JSON_TYPES[name] ?? []).includes(actual);
    return name === actual || (name === 'number' && NUMERIC_TYPES.has(actual));
  });
}

function specified(schema: Document, ...keywords: string[]): Document {
  const spec: Document = {};
  for (const keyword of keywords) if (keyword in schema) spec[keyword] = schema[keyword];
  return spec;
}

function typeFailures(schema: Document, value: unknown): Detail[] {
  const failures: Detail[] = [];
  for (const keyword of ['type', 'bsonType'] as const) {
    if (keyword in schema && !matchesType(keyword, schema[keyword], value)) {
      failures.push({
        operatorName: keyword,
        specifiedAs: { [keyword]: schema[keyword] },
        reason: 'type did not match',
        consideredValue: value,
        consideredType: typeNameOf(value),
      });
    }
  }
  return failures;
}

function numberFailures(schema: Document, value: unknown): Detail[] {
  const number = numericValue(value);
  if (number === undefined) return [];
  const failures: Detail[] = [];
  const bounds = [
    ['minimum', 'exclusiveMinimum', (bound: number) => number < bound],
    ['maximum', 'exclusiveMaximum', (bound: number) => number > bound],
  ] as const;
  for (const [keyword, exclusive, outside] of bounds) {
    if (!(keyword in schema)) continue;
    const bound = numericValue(schema[keyword]) as number;
    if (outside(bound) || (schema[exclusive] === true && number === bound))
      failures.push({
        operatorName: keyword,
        specifiedAs: specified(schema, keyword, exclusive),
        reason: 'comparison failed',
        consideredValue: value,
      });
  }
  if ('multipleOf' in schema) {
    const divisor = numericValue(schema.multipleOf) as number;
    if (number % divisor !== 0)
      failures.push({
        operatorName: 'multipleOf',
        specifiedAs: { multipleOf: schema.multipleOf },
        reason: 'considered value is not a multiple of the specified value',
        consideredValue: value,
      });
  }
  return failures;
}

function stringFailures(schema: Document, value: unknown): Detail[] {
  if (typeof value !== 'string') return [];
  const failures: Detail[] = [];
  const length = [...value].length;
  for (const keyword of ['minLength', 'maxLength'] as const) {
    if (!(keyword in schema)) continue;
    const limit = numericValue(schema[keyword]) as number;
    if (keyword === 'minLength' ? length < limit : length > limit)
      failures.push({
        operatorName: keyword,
        specifiedAs: { [keyword]: schema[keyword] },
        reason: 'specified string length was not satisfied',
        consideredValue: value,
      });
  }
  if (typeof schema.pattern === 'string' && !compilePattern('pattern', schema.pattern).test(value))
    failures.push({
      operatorName: 'pattern',
      specifiedAs: { pattern: schema.pattern },
      reason: 'regular expression did not match',
      consideredValue: value,
    });
  return failures;
}

function subschemaFailure(schema: Document, value: unknown): Detail[] {
  return evaluateSchema(schema, value);
}

function arrayFailures(schema: Document, value: unknown): Detail[] {
  if (!Array.isArray(value)) return [];
  const failures: Detail[] = [];
  const items = schema.items as unknown;
  if (isObject(items)) {
    for (const [itemIndex, item] of value.entries()) {
      const details = subschemaFailure(items, item);
      if (details.length === 0) continue;
      failures.push({
        operatorName: 'items',
        ...annotations(items),
        reason: 'At least one item did not match the sub-schema',
        itemIndex,
        details,
      });
      break;
    }
  } else if (Array.isArray(items)) {
    const itemFailures: Detail[] = [];
    for (const [itemIndex, itemSchema] of (items as Document[]).entries()) {
      if (itemIndex >= value.length) break;
      const details = subschemaFailure(itemSchema, value[itemIndex]);
      if (details.length > 0) itemFailures.push({ itemIndex, ...annotations(itemSchema), details });
    }
    if (itemFailures.length > 0) failures.push({ operatorName: 'items', details: itemFailures });
    const extra = schema.additionalItems as unknown;
    if (extra === false && value.length > items.length)
      failures.push({
        operatorName: 'additionalItems',
        specifiedAs: { additionalItems: false },
        reason: 'found additional items',
        additionalItems: value.slice(items.length),
      });
    else if (isObject(extra)) {
      for (let itemIndex = items.length; itemIndex < value.length; itemIndex += 1) {
        const details = subschemaFailure(extra, value[itemIndex]);
        if (details.length === 0) continue;
        failures.push({
          operatorName: 'additionalItems',
          ...annotations(extra),
          reason: 'At least one additional item did not match the sub-schema',
          itemIndex,
          details,
        });
        break;
      }
    }
  }
  for (const keyword of ['minItems', 'maxItems'] as const) {
    if (!(keyword in schema)) continue;
    const limit = numericValue(schema[keyword]) as number;
    if (keyword === 'minItems' ? value.length < limit : value.length > limit)
      failures.push({
        operatorName: keyword,
        specifiedAs: { [keyword]: schema[keyword] },
        reason: 'array did not match specified length',
        consideredValue: value,
        numberOfItems: value.length,
      });
  }
  if (schema.uniqueItems === true) {
    const duplicate = firstDuplicate(value);
    if (duplicate)
      failures.push({
        operatorName: 'uniqueItems',
        specifiedAs: { uniqueItems: true },
        reason: 'found a duplicate item',
        consideredValue: value,
        duplicatedValue: duplicate.value,
      });
  }
  return failures;
}

function firstDuplicate(values: unknown[]): { value: unknown } | undefined {
  for (let index = 1; index < values.length; index += 1) {
    const value = values[index];
    if (values.slice(0, index).some((earlier) => compareValues(earlier, value) === 0)) return { value };
  }
  return undefined;
}

function objectFailures(schema: Document, value: unknown): Detail[] {
  if (!isObject(value)) return [];
  const failures: Detail[] = [];
  if (isObject(schema.properties)) {
    const propertiesNotSatisfied: Detail[] = [];
    for (const [propertyName, propertySchema] of Object.entries(schema.properties as Document)) {
      if (value[propertyName] === undefined) continue;
      const details = subschemaFailure(propertySchema as Document, value[propertyName]);
      if (details.length > 0)
        propertiesNotSatisfied.push({ propertyName, ...annotations(propertySchema as Document), details });
    }
    if (propertiesNotSatisfied.length > 0)
      failures.push({ operatorName: 'properties', propertiesNotSatisfied });
  }
  failures.push(...allowedPropertyFailures(schema, value));
  if (Array.isArray(schema.required)) {
    const missingProperties = (schema.required as string[]).filter((name) => value[name] === undefined);
    if (missingProperties.length > 0)
      failures.push({
        operatorName: 'required',
        specifiedAs: { required: schema.required },
        missingProperties,
      });
  }
  const numberOfProperties = Object.keys(value).length;
  for (const keyword of ['minProperties', 'maxProperties'] as const) {
    if (!(keyword in schema)) continue;
    const limit = numericValue(schema[keyword]) as number;
    if (keyword === 'minProperties' ? numberOfProperties < limit : numberOfProperties > limit)
      failures.push({
        operatorName: keyword,
        specifiedAs: { [keyword]: schema[keyword] },
        reason: 'specified number of properties was not satisfied',
        numberOfProperties,
      });
  }
  if (isObject(schema.dependencies)) {
    const failingDependencies: Detail[] = [];
    for (const [conditionalProperty, dependency] of Object.entries(schema.dependencies as Document)) {
      if (value[conditionalProperty] === undefined) continue;
      if (Array.isArray(dependency)) {
        const missingProperties = (dependency as string[]).filter((name) => value[name] === undefined);
        if (missingProperties.length > 0)
          failingDependencies.push({ conditionalProperty, missingProperties });
      } else {
        const details = subschemaFailure(dependency as Document, value);
        if (details.length > 0) failingDependencies.push({ conditionalProperty, details });
      }
    }
    if (failingDependencies.length > 0) failures.push({ operatorName: 'dependencies', failingDependencies });
  }
  return failures;
}

/** `additionalProperties` and `patternProperties`, which together decide which properties are allowed. */
function allowedPropertyFailures(schema: Document, value: Document): Detail[] {
  if (!('additionalProperties' in schema) && !isObject(schema.patternProperties)) return [];
  const failures: Detail[] = [];
  const declared = new Set(Object.keys(isObject(schema.properties) ? (schema.properties as Document) : {}));
  const patterns = Object.entries(
    isObject(schema.patternProperties) ? (schema.patternProperties as Document) : {},
  ).map(([source, patternSchema]) => ({
    source,
    regex: compilePattern('patternProperties', source),
    schema: patternSchema as Document,
  }));
  const additional = Object.keys(value).filter(
    (name) => !declared.has(name) && !patterns.some((pattern) => pattern.regex.test(name)),
  );
  if (schema.additionalProperties === false && additional.length > 0)
    failures.push({
      operatorName: 'additionalProperties',
      specifiedAs: { additionalProperties: false },
      additionalProperties: additional,
    });
  else if (isObject(schema.additionalProperties)) {
    for (const failingProperty of additional) {
      const details = subschemaFailure(schema.additionalProperties as Document, value[failingProperty]);
      if (details.length === 0) continue;
      failures.push({
        operatorName: 'additionalProperties',
        ...annotations(schema.additionalProperties as Document),
        reason: 'at least one additional property did not match the subschema',
        failingProperty,
        details,
      });
      break;
    }
  }
  const patternFailures: Detail[] = [];
  for (const pattern of patterns) {
    for (const [propertyName, propertyValue] of Object.entries(value)) {
      if (!pattern.regex.test(propertyName)) continue;
      const details = subschemaFailure(pattern.schema, propertyValue);
      if (details.length === 0) continue;
      patternFailures.push({
        propertyName,
        ...annotations(pattern.schema),
        regexMatched: pattern.source,
        details,
      });
      break;
    }
  }
  if (patternFailures.length > 0)
    failures.push({ operatorName: 'patternProperties', details: patternFailures });
  return failures;
}

function logicalFailures(schema: Document, value: unknown): Detail[] {
  const failures: Detail[] = [];
  const outcomes = (keyword: string): Array<{ index: number; details: Detail[]; schema: Document }> =>
    ((schema[keyword] as Document[] | undefined) ?? []).map((subschema, index) => ({
      index,
      schema: subschema,
      details: evaluateSchema(subschema, value),
    }));
  const notSatisfied = (results: ReturnType<typeof outcomes>): Detail[] =>
    results
      .filter((result) => result.details.length > 0)
      .map((result) => ({ index: result.index, ...annotations(result.schema), details: result.details }));
  if (Array.isArray(schema.allOf)) {
    const schemasNotSatisfied = notSatisfied(outcomes('allOf'));
    if (schemasNotSatisfied.length > 0) failures.push({ operatorName: 'allOf', schemasNotSatisfied });
  }
  if (Array.isArray(schema.anyOf)) {
    const results = outcomes('anyOf');
    if (results.every((result) => result.details.length > 0))
      failures.push({ operatorName: 'anyOf', schemasNotSatisfied: notSatisfied(results) });
  }
  if (Array.isArray(schema.oneOf)) {
    const results = outcomes('oneOf');
    const matching = results.filter((result) => result.details.length === 0).map((result) => result.index);
    if (matching.length === 0)
      failures.push({ operatorName: 'oneOf', schemasNotSatisfied: notSatisfied(results) });
    else if (matching.length > 1)
      failures.push({
        operatorName: 'oneOf',
        reason: 'more than one subschema matched',
        matchingSchemaIndexes: matching,
      });
  }
  if (isObject(schema.not) && evaluateSchema(schema.not as Document, value).length === 0)
    failures.push({ operatorName: 'not', reason: 'child expression matched' });
  if (
    Array.isArray(schema.enum) &&
    !(schema.enum as unknown[]).some((option) => compareValues(option, value) === 0)
  )
    failures.push({
      operatorName: 'enum',
      specifiedAs: { enum: schema.enum },
      reason: 'value was not found in enum',
      consideredValue: value,
    });
  return failures;
}

/**
 * The rules of a (parsed) schema that a present value does not satisfy, in the order mongod reports
 * them: type, scalar, array, object, then logical keywords. Keywords for another type do not apply.
 */
export function evaluateSchema(schema: Document, value: unknown): Detail[] {
  return [
    ...typeFailures(schema, value),
    ...numberFailures(schema, value),
    ...stringFailures(schema, value),
    ...arrayFailures(schema, value),
    ...objectFailures(schema, value),
    ...logicalFailures(schema, value),
  ];
}

/** errInfo's `details` for a document that fails a `$jsonSchema`. */
export function schemaErrorDetails(schema: Document, doc: Document): Detail {
  return {
    operatorName: '$jsonSchema',
    ...annotations(schema),
    schemaRulesNotSatisfied: evaluateSchema(schema, doc),
  };
}

/** The `$jsonSchema` query operator's test, for the query engine. */
export function schemaPredicate(schema: Document): (doc: unknown) => boolean {
  parseSchema(schema);
  return (doc) => evaluateSchema(schema, doc).length === 0;
}
