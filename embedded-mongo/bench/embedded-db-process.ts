import { EmbeddedMongoServer } from '../src/index.js';

/** Runs the embedded server in its own process, as it would run beside (not inside) a busy client. */
const dataDir = process.env.BENCH_DATA_DIR;
const server = await EmbeddedMongoServer.start(dataDir ? { dataDir } : {});
process.send?.({ uri: server.uri });
process.on('message', (message: unknown) => {
  if (message === 'stop') void server.stop().then(() => process.exit(0));
  // The CPU time this process has used so far (µs), so the bench can show the server's cost per operation.
  if (message === 'cpu') process.send?.({ cpu: process.cpuUsage() });
});
