import { existsSync, readdirSync, readFileSync, statSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

import { describe, expect, it } from 'vitest';

import { EnvSchema } from '@gen3d/server';

const root = resolve(dirname(fileURLToPath(import.meta.url)), '../..');
const read = (path: string): string => readFileSync(join(root, path), 'utf8');
const settings = Object.keys(EnvSchema.shape).sort();

const docFiles = [
  'README.md',
  ...readdirSync(join(root, 'docs'))
    .filter((name) => name.endsWith('.md'))
    .map((name) => `docs/${name}`),
];

/** The names in the first column of configuration.md's settings table (a row may name several). */
function documentedSettings(markdown: string): string[] {
  const rows = markdown.split('\n').filter((line) => line.startsWith('| `'));
  return rows.flatMap((row) => {
    const firstCell = row.split('|')[1] ?? '';
    return [...firstCell.matchAll(/`([A-Z][A-Z0-9_]*)`/g)].map((match) => match[1] as string);
  });
}

/** The settings `.env.example` assigns, commented out or not. */
function exampleSettings(text: string): string[] {
  return [...text.matchAll(/^#? ?([A-Z][A-Z0-9_]*)=/gm)].map((match) => match[1] as string);
}

/** Relative link targets of a markdown file, without their #fragment. */
function relativeLinks(markdown: string): string[] {
  return [...markdown.matchAll(/\]\(([^)\s]+)\)/g)]
    .map((match) => match[1] as string)
    .filter((target) => !/^[a-z][a-z0-9+.-]*:/i.test(target) && !target.startsWith('#'))
    .map((target) => target.split('#')[0] as string);
}

describe('documentation', () => {
  it('configuration.md documents exactly the settings of the environment schema', () => {
    expect(settings.length).toBeGreaterThan(50);
    const documented = documentedSettings(read('docs/configuration.md'));
    expect(
      settings.filter((name) => !documented.includes(name)),
      'settings missing from the table',
    ).toEqual([]);
    expect(
      documented.filter((name) => !settings.includes(name)),
      'table rows naming no setting of the schema',
    ).toEqual([]);
    expect(new Set(documented).size, 'a setting listed twice').toBe(documented.length);
  });

  it('.env.example lists exactly the settings of the environment schema', () => {
    const listed = exampleSettings(read('.env.example'));
    expect(
      settings.filter((name) => !listed.includes(name)),
      'settings missing from .env.example',
    ).toEqual([]);
    expect(
      listed.filter((name) => !settings.includes(name)),
      'assignments of unknown settings',
    ).toEqual([]);
  });

  it('keeps the README at most 15,000 bytes', () => {
    expect(statSync(join(root, 'README.md')).size).toBeLessThanOrEqual(15_000);
  });

  it('has every relative link of the README and docs/ point at an existing file', () => {
    const broken: string[] = [];
    let links = 0;
    for (const file of docFiles) {
      for (const target of relativeLinks(read(file))) {
        links += 1;
        if (!existsSync(resolve(root, dirname(file), target))) broken.push(`${file} -> ${target}`);
      }
    }
    expect(links).toBeGreaterThan(8);
    expect(broken).toEqual([]);
  });

  it('names the REST contract by its place in the repository', () => {
    expect(existsSync(join(root, 'docs/rest-contract.md'))).toBe(true);
    for (const file of [...docFiles, 'tests/rest/contract.test.ts'])
      expect(read(file), file).not.toContain('shared/docs/rest-contract');
  });
});
