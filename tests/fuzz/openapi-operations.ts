import { Ajv2020, type ValidateFunction } from 'ajv/dist/2020.js';

type Schema = Record<string, unknown>;

export interface FuzzParameter {
  name: string;
  in: 'path' | 'query';
  required: boolean;
  schema: Schema;
}

/** One REST operation of the document, with what the fuzzer needs to build and judge requests. */
export interface FuzzOperation {
  method: string;
  path: string;
  parameters: FuzzParameter[];
  bodySchema: Schema | undefined;
  bodyRequired: boolean;
  /** Declared statuses and, when it has one, the JSON schema of each answer. */
  responses: Map<number, Schema | undefined>;
}

interface DocumentOperation {
  parameters?: Array<{ name: string; in: string; required?: boolean; schema?: Schema }>;
  requestBody?: { required?: boolean; content?: Record<string, { schema?: Schema }> };
  responses?: Record<string, { content?: Record<string, { schema?: Schema }> }>;
}

export interface OpenApiDocument {
  paths: Record<string, Record<string, DocumentOperation>>;
  components?: Record<string, unknown>;
}

/** Every operation of the document. */
export function operationsOf(document: OpenApiDocument): FuzzOperation[] {
  const operations: FuzzOperation[] = [];
  for (const [path, item] of Object.entries(document.paths)) {
    for (const [method, operation] of Object.entries(item)) {
      const responses = new Map<number, Schema | undefined>();
      for (const [status, response] of Object.entries(operation.responses ?? {}))
        responses.set(Number(status), response.content?.['application/json']?.schema);
      operations.push({
        method: method.toUpperCase(),
        path,
        parameters: (operation.parameters ?? []).map((parameter) => ({
          name: parameter.name,
          in: parameter.in as 'path' | 'query',
          required: parameter.required ?? false,
          schema: parameter.schema ?? {},
        })),
        bodySchema: operation.requestBody?.content?.['application/json']?.schema,
        bodyRequired: operation.requestBody?.required ?? false,
        responses,
      });
    }
  }
  return operations;
}

/** `#/components/...` references, pointed at the document registered under the id `doc`. */
function rebased(schema: unknown): unknown {
  if (Array.isArray(schema)) return schema.map(rebased);
  if (schema === null || typeof schema !== 'object') return schema;
  return Object.fromEntries(
    Object.entries(schema).map(([key, value]) => [
      key,
      key === '$ref' && typeof value === 'string' ? value.replace(/^#\//, 'doc#/') : rebased(value),
    ]),
  );
}

/**
 * JSON Schema validation (2020-12, as OpenAPI 3.1 uses) of request parts and answers against the document.
 * Query and path parameters are read as the server reads them: strings turned into numbers and booleans.
 */
export class DocumentValidator {
  private readonly strict = new Ajv2020({ strict: false, validateFormats: false, allErrors: false });
  private readonly parameters = new Ajv2020({ strict: false, validateFormats: false, coerceTypes: true });
  private readonly cache = new Map<Schema, ValidateFunction>();
  private readonly parameterCache = new Map<Schema, ValidateFunction>();

  constructor(document: OpenApiDocument) {
    for (const ajv of [this.strict, this.parameters])
      ajv.addSchema({ $id: 'doc', components: document.components ?? {} });
  }

  /** Whether the value matches the schema; `why` says how it does not. */
  matches(schema: Schema, value: unknown): { ok: boolean; why: string } {
    let validate = this.cache.get(schema);
    if (!validate) {
      validate = this.strict.compile(rebased(schema) as Schema);
      this.cache.set(schema, validate);
    }
    const ok = validate(structuredClone(value));
    return { ok, why: ok ? '' : this.strict.errorsText(validate.errors) };
  }

  /** Whether a parameter's text is valid for its schema, read as the server reads query strings. */
  parameterMatches(schema: Schema, text: string): boolean {
    let validate = this.parameterCache.get(schema);
    if (!validate) {
      validate = this.parameters.compile(rebased(schema) as Schema);
      this.parameterCache.set(schema, validate);
    }
    const holder = { value: text };
    return validate(holder.value);
  }
}
