import { dirname, isAbsolute, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { Plugin } from 'rollup';

/** What the published package imports at run time and in its declarations: its dependencies and peers. */
export const PUBLISHED_DEPENDENCIES = ['@trpc/client', '@trpc/server', 'eventsource', 'zod'] as const;

const SERVER_ONLY_TYPES = join(dirname(fileURLToPath(import.meta.url)), 'server-only-types.d.ts');

function isPublishedDependency(specifier: string): boolean {
  return PUBLISHED_DEPENDENCIES.some((name) => specifier === name || specifier.startsWith(`${name}/`));
}

/**
 * Resolves the declarations tsc emitted for the client, @gen3d/shared and the server's router into one
 * self-contained file. The router's declaration spells every procedure's input and output out in full and
 * refers to the server only for its request context and REST meta, which no client reads; those two come
 * from `server-only-types.d.ts`. Anything else the declarations reach fails the build rather than leaving
 * the published types an import a client cannot resolve.
 */
export function publishedTypesResolver(declarationsDirectory: string): Plugin {
  const routerDeclaration = join(declarationsDirectory, 'server', 'src', 'trpc', 'router.d.ts');
  return {
    name: 'gen3d-published-types',
    resolveId(specifier, importer) {
      if (specifier === '@gen3d/shared') return join(declarationsDirectory, 'shared', 'src', 'index.d.ts');
      if (specifier === '@gen3d/server') return routerDeclaration;
      if (isPublishedDependency(specifier)) return { id: specifier, external: true };
      if (importer === routerDeclaration) {
        if (specifier === './trpc.js' || specifier === './context.js') return SERVER_ONLY_TYPES;
        throw new Error(`The router's declaration refers to ${specifier}; decide whether clients need it and publish or replace it`);
      }
      if (specifier.startsWith('.') || isAbsolute(specifier)) return null;
      throw new Error(`The client's declarations import ${specifier} (from ${importer ?? 'the entry'}), which the published package does not depend on`);
    },
  };
}
