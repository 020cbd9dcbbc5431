import { z } from 'zod';

/**
 * Where a job stands in the queue and when it should start and finish (docs/api.md, "Queue position and
 * ETA"). Optional: servers before these fields, and job answers that do not compute them (admin listings,
 * analytics), leave them out. Null means "does not apply" (not queued) or "no estimate" (no history yet).
 */
export const ZQueueEstimate = z.object({
  queuePosition: z
    .number()
    .int()
    .min(1)
    .nullable()
    .optional()
    .describe(
      'While queued: 1 + the queued jobs of every user claimed before this one in the fair order (1 = next); null once it runs or ends',
    )
    .meta({ example: 3 }),
  estimatedStartAt: z
    .string()
    .nullable()
    .optional()
    .describe(
      "While queued: when a worker should claim it, from its model server's recent run times and the workers of every instance; null without history or workers",
    )
    .meta({ example: '2026-01-05T10:15:30.000Z' }),
  estimatedFinishAt: z
    .string()
    .nullable()
    .optional()
    .describe(
      'While queued or running: when it should succeed (start + the typical run time); null without history or workers, and once it ended',
    )
    .meta({ example: '2026-01-05T10:16:10.000Z' }),
});
export type TQueueEstimate = z.infer<typeof ZQueueEstimate>;
