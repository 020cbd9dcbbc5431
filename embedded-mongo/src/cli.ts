import { resolve } from 'node:path';
import { parseArgs } from 'node:util';

import { EmbeddedMongoServer } from './server.js';

/**
 * `pnpm db`: runs only the embedded database, with data in DATA_DIR (default ./.data/db), on
 * EMBEDDED_DB_PORT (default 27017, mongod's, so mongosh and Compass find it), and prints its URI.
 * `--enableTestCommands` also answers mongod's test commands (`configureFailPoint`), for tests only.
 */
let enableTestCommands: boolean;
try {
  ({
    values: { enableTestCommands = false },
  } = parseArgs({ options: { enableTestCommands: { type: 'boolean' } }, strict: true }));
} catch (error) {
  console.error(
    `${error instanceof Error ? error.message : String(error)}; usage: pnpm db [--enableTestCommands]`,
  );
  process.exit(2);
}
const dataDir = resolve(process.env.DATA_DIR ?? '.data', 'db');
const port = Number(process.env.EMBEDDED_DB_PORT ?? 27017);
if (!Number.isInteger(port) || port < 0 || port > 65535) {
  console.error(
    `EMBEDDED_DB_PORT must be a whole number from 0 to 65535, got "${process.env.EMBEDDED_DB_PORT}"`,
  );
  process.exit(2);
}

const server = await EmbeddedMongoServer.start({
  dataDir,
  port,
  enableTestCommands,
  onError: (error) => console.error(error.message),
  onWarning: (message) => console.warn(message),
});
console.log(`embedded MongoDB-compatible server listening at ${server.uri}`);
console.log(`data directory: ${dataDir}`);
if (enableTestCommands) console.log('test commands enabled (configureFailPoint): never for real data');
console.log(`try: mongosh "${server.uri}"`);

for (const signal of ['SIGINT', 'SIGTERM'] as const) {
  process.once(signal, () => {
    void server.stop().then(() => process.exit(0));
  });
}
