import { z } from 'zod';

import { buildReferenceModelServer } from './http-server.js';

/** Runs the reference model server alone: `pnpm model-server` (MODEL_SERVER_PORT, MODEL_SERVER_DURATION_MS). */
const env = z
  .object({
    MODEL_SERVER_HOST: z.string().default('127.0.0.1'),
    MODEL_SERVER_PORT: z.coerce.number().int().min(0).max(65535).default(3001),
    MODEL_SERVER_DURATION_MS: z.coerce.number().int().min(0).default(3000),
  })
  .safeParse(process.env);
if (!env.success) {
  console.error(
    `bad environment: ${env.error.issues.map((issue) => `${issue.path.join('.')}: ${issue.message}`).join('; ')}`,
  );
  process.exit(2);
}
const app = buildReferenceModelServer({ durationMs: env.data.MODEL_SERVER_DURATION_MS });
const url = await app.listen({ host: env.data.MODEL_SERVER_HOST, port: env.data.MODEL_SERVER_PORT });
process.stdout.write(
  `reference model server listening at ${url} (each generation takes ${env.data.MODEL_SERVER_DURATION_MS} ms)\n`,
);
for (const signal of ['SIGINT', 'SIGTERM'] as const) {
  process.once(signal, () => {
    void app.close().then(() => process.exit(0));
  });
}
