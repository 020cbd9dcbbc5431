import { resolve } from 'node:path';

import { EmbeddedMongoServer } from './server.js';

/**
 * `pnpm db`: runs only the embedded database, with data in DATA_DIR (default ./.data/db), and prints
 * its URI for mongosh or Compass.
 */
const dataDir = resolve(process.env.DATA_DIR ?? '.data', 'db');
const port = Number(process.env.EMBEDDED_MONGO_PORT ?? 27017);

const server = await EmbeddedMongoServer.start({
  dataDir,
  port,
  onError: (error) => console.error(error.message),
});
console.log(`embedded MongoDB-compatible server listening at ${server.uri}`);
console.log(`data directory: ${dataDir}`);
console.log(`try: mongosh "${server.uri}"`);

for (const signal of ['SIGINT', 'SIGTERM'] as const) {
  process.once(signal, () => {
    void server.stop().then(() => process.exit(0));
  });
}
