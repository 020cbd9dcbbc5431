import { createGen3dClient, type Gen3dClient, type TJob } from '@gen3d/client';

import type { SignedIn } from './accounts.js';
import type { TestServer } from './server.js';

export function clientFor(server: TestServer, account: SignedIn): Gen3dClient {
  return createGen3dClient({
    url: server.url,
    headers: () => ({ authorization: `Bearer ${account.token}` }),
  });
}

const FINISHED = new Set(['succeeded', 'failed', 'canceled']);

/** Follows the job over the live-update subscription until `until` holds; every update is kept. */
export function followJob(
  client: Gen3dClient,
  jobId: string,
  until: (job: TJob) => boolean = (job) => FINISHED.has(job.status),
  timeoutMs = 90_000,
): Promise<TJob[]> {
  return new Promise((resolve, reject) => {
    const seen: TJob[] = [];
    const timer = setTimeout(() => {
      subscription.unsubscribe();
      reject(
        new Error(
          `job ${jobId} did not reach the expected state in ${timeoutMs} ms; updates: ${JSON.stringify(seen.map((job) => [job.status, job.progress]))}`,
        ),
      );
    }, timeoutMs);
    const subscription = client.generation.watch.subscribe(
      { jobId },
      {
        onData: (event) => {
          seen.push(event.data);
          if (until(event.data)) {
            clearTimeout(timer);
            subscription.unsubscribe();
            resolve(seen);
          }
        },
        onError: (error) => {
          clearTimeout(timer);
          reject(error);
        },
      },
    );
  });
}
