import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

import { EJSON, type Document } from 'bson';

/**
 * MongoDB's CRUD spec vectors live beside the repository in ../shared/conformance (their licence keeps
 * them out of it); CONFORMANCE_DIR points elsewhere.
 */
export const conformanceRoot = resolve(
  process.env.CONFORMANCE_DIR ??
    resolve(dirname(fileURLToPath(import.meta.url)), '../../../../shared/conformance/mongodb-crud-v1'),
);

/** False in a checkout without the vectors beside it; the suite then says so instead of failing to load. */
export const conformanceAvailable =
  existsSync(join(conformanceRoot, 'read')) && existsSync(join(conformanceRoot, 'write'));

export interface ConformanceTest {
  description: string;
  operation: { name: string; arguments: Document; object?: string };
  outcome: { result?: unknown; error?: boolean; collection?: { name?: string; data: Document[] } };
}

export interface ConformanceFile {
  file: string;
  data: Document[];
  tests: ConformanceTest[];
}

export function loadConformanceFiles(): ConformanceFile[] {
  if (!conformanceAvailable) return [];
  return ['read', 'write'].flatMap((folder) =>
    readdirSync(join(conformanceRoot, folder))
      .filter((name) => name.endsWith('.json'))
      .sort()
      .map((name) => {
        const parsed = EJSON.parse(readFileSync(join(conformanceRoot, folder, name), 'utf8'), {
          relaxed: true,
        }) as Document;
        return {
          file: `${folder}/${name}`,
          data: (parsed.data as Document[]) ?? [],
          tests: parsed.tests as ConformanceTest[],
        };
      }),
  );
}

/** Why a vector is not run, or undefined when it must pass. */
export function skipReason(_file: string, _test: ConformanceTest): string | undefined {
  return undefined;
}

/**
 * The spec's comparison: expected documents may be a subset of the actual ones, arrays must match
 * element for element, numbers compare by value whatever their BSON type.
 */
export function matchesExpected(expected: unknown, actual: unknown): boolean {
  if (expected === null || expected === undefined) return actual === null || actual === undefined;
  if (typeof expected === 'number')
    return actual !== null && actual !== undefined && Number(actual) === expected;
  if (Array.isArray(expected)) {
    return (
      Array.isArray(actual) &&
      actual.length === expected.length &&
      expected.every((item, index) => matchesExpected(item, actual[index]))
    );
  }
  if (typeof expected === 'object') {
    if (actual === null || typeof actual !== 'object') return false;
    return Object.entries(expected as Document).every(([key, value]) =>
      matchesExpected(value, (actual as Document)[key]),
    );
  }
  return expected === actual;
}
