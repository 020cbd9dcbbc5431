import type { Document } from 'bson';

/**
 * Every value a dotted path reaches in a document, the way MongoDB indexes it: arrays met along the
 * way are traversed, and an array at the end contributes each element. A path that reaches nothing
 * yields `[undefined]`.
 */
export function valuesAtPath(doc: unknown, path: string): unknown[] {
  const found: unknown[] = [];
  collect(doc, path.split('.'), 0, found);
  return found.length > 0 ? found : [undefined];
}

function collect(value: unknown, parts: string[], depth: number, found: unknown[]): void {
  if (depth === parts.length) {
    if (Array.isArray(value)) {
      if (value.length === 0) found.push(undefined);
      else found.push(...value);
    } else {
      found.push(value);
    }
    return;
  }
  if (value === null || typeof value !== 'object') return;
  const part = parts[depth] as string;
  if (Array.isArray(value)) {
    if (/^\d+$/.test(part) && Number(part) < value.length) {
      collect(value[Number(part)], parts, depth + 1, found);
      return;
    }
    for (const element of value) collect(element, parts, depth, found);
    return;
  }
  const next = (value as Document)[part];
  if (next === undefined) return;
  collect(next, parts, depth + 1, found);
}

/** Whether an array lies anywhere along a dotted path of `doc` (at its end included). */
export function pathHoldsArray(doc: Document, path: string): boolean {
  let value: unknown = doc;
  for (const part of path.split('.')) {
    if (value === null || typeof value !== 'object') return false;
    value = (value as Document)[part];
    if (Array.isArray(value)) return true;
  }
  return false;
}

/** The value at a dotted path without array traversal, as `{a.b: 1}` reads it in an upsert seed. */
export function setAtPath(doc: Document, path: string, value: unknown): void {
  const parts = path.split('.');
  let target: Document = doc;
  for (const part of parts.slice(0, -1)) {
    const next = target[part];
    if (next === null || typeof next !== 'object') target[part] = {};
    target = target[part] as Document;
  }
  target[parts[parts.length - 1] as string] = value;
}
