import { resolve } from 'node:path';

import { EmbeddedMongoServer } from './server.js';

/**
 * `pnpm db`: runs only the embedded database, with data in DATA_DIR (default ./.data/db), on
 * EMBEDDED_DB_PORT (default 27017, mongod's, so mongosh and Compass find it), and prints its URI.
 */
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
  onError: (error) => console.error(error.message),
  onWarning: (message) => console.warn(message),
});
console.log(`embedded MongoDB-compatible server listening at ${server.uri}`);
console.log(`data directory: ${dataDir}`);
console.log(`try: mongosh "${server.uri}"`);

for (const signal of ['SIGINT', 'SIGTERM'] as const) {
  process.once(signal, () => {
    void server.stop().then(() => process.exit(0));
  });
}
