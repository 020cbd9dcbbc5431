import { afterAll, beforeAll, describe, expect, it } from 'vitest';

import type { Gen3dClient, TJob } from '@gen3d/client';

import { signInNewAdmin, signInNewUser, type SignedIn } from '../support/accounts.js';
import { startTestDatabase, type TestDatabase } from '../support/database.js';
import { clientFor } from '../support/generation.js';
import { startHeldModelServer, type HeldModelServer } from '../support/held-model-server.js';
import { callRest } from '../support/rest.js';
import { startTestServer, type TestServer } from '../support/server.js';

const WORKERS = 2;

/** Every update of one job as it arrives, with a way to wait for the first that satisfies a condition. */
class Updates {
  readonly seen: TJob[] = [];
  private readonly waiters = new Set<() => void>();

  push(job: TJob): void {
    this.seen.push(job);
    for (const waiter of [...this.waiters]) waiter();
  }

  waitFor(predicate: (job: TJob) => boolean, what: string, timeoutMs = 60_000): Promise<TJob> {
    return new Promise((resolve, reject) => {
      const check = (): void => {
        const found = this.seen.find(predicate);
        if (!found) return;
        this.waiters.delete(check);
        clearTimeout(timer);
        resolve(found);
      };
      const timer = setTimeout(() => {
        this.waiters.delete(check);
        reject(
          new Error(
            `no update with ${what} in ${timeoutMs} ms; saw ${JSON.stringify(this.seen.map((job) => [job.status, job.queuePosition, job.estimatedStartAt]))}`,
          ),
        );
      }, timeoutMs);
      this.waiters.add(check);
      check();
    });
  }

  /** The positions the job was given while queued, each change once. */
  positions(): number[] {
    const positions: number[] = [];
    for (const job of this.seen)
      if (job.status === 'queued' && job.queuePosition != null && positions.at(-1) !== job.queuePosition)
        positions.push(job.queuePosition);
    return positions;
  }
}

function follow(client: Gen3dClient, jobId: string): { updates: Updates; stop(): void } {
  const updates = new Updates();
  const subscription = client.generation.watch.subscribe(
    { jobId },
    { onData: (event) => updates.push(event.data), onError: () => undefined },
  );
  return { updates, stop: () => subscription.unsubscribe() };
}

const time = (iso: string | null | undefined): number => {
  expect(iso, 'an estimate').toEqual(expect.any(String));
  return Date.parse(iso as string);
};

describe('queue position and ETA', () => {
  let database: TestDatabase;
  let held: HeldModelServer;
  let server: TestServer;
  /** An instance without workers on the same database. */
  let apiOnly: TestServer;
  let admin: SignedIn;

  beforeAll(async () => {
    database = await startTestDatabase();
    held = await startHeldModelServer();
    const env = {
      MODEL_SERVER_URL: held.url,
      AUTH_RATE_LIMIT_MAX: '1000',
      MODEL_SERVER_POLL_INTERVAL_MS: '20',
      JOBS_MAX_RUNNING_PER_USER: '2',
    };
    server = await startTestServer(database, { env: { ...env, WORKER_CONCURRENCY: String(WORKERS) } });
    apiOnly = await startTestServer(database, {
      env: { ...env, WORKER_CONCURRENCY: '0' },
      mongodbUri: server.mongodbUri,
    });
    admin = await signInNewAdmin(server);
  });

  afterAll(async () => {
    await apiOnly?.close();
    await server?.close();
    await held?.close();
    await database?.stop();
  });

  it(
    'numbers queued jobs in the order workers then claim them, counts down live, and estimates from run times',
    { timeout: 180_000 },
    async () => {
      const [blocker, heavy, light, sdkUser] = (await Promise.all(
        ['blocker', 'heavy', 'light', 'sdk'].map((name) =>
          signInNewUser(server, admin, `${name}@example.com`),
        ),
      )) as [SignedIn, SignedIn, SignedIn, SignedIn];
      const owners = new Map<string, SignedIn>();
      const queue = async (user: SignedIn, prompt: string): Promise<TJob> => {
        const created = await callRest(server.url, 'POST', '/jobs', { prompt }, user.token);
        expect(created.status, JSON.stringify(created.body)).toBe(201);
        owners.set(String(created.body.id), user);
        return created.body as unknown as TJob;
      };
      const restJob = async (id: string, on = server): Promise<TJob> => {
        const answer = await callRest(on.url, 'GET', `/jobs/${id}`, undefined, owners.get(id)?.token);
        expect(answer.status, JSON.stringify(answer.body)).toBe(200);
        return answer.body as unknown as TJob;
      };

      // Both workers are busy with held jobs, so everything queued next waits.
      const blockers = [await queue(blocker, 'blocker one'), await queue(blocker, 'blocker two')];
      await held.nextStarted(0);
      await held.nextStarted(1);
      for (const job of blockers) {
        const running = await restJob(job.id);
        expect(running.status).toBe('running');
        // Running: no place in the queue, and no run time recorded yet to estimate its end.
        expect(running).toMatchObject({
          queuePosition: null,
          estimatedStartAt: null,
          estimatedFinishAt: null,
        });
      }

      // A heavy user's backlog first, then a light user's job: fairness lets the light one overtake.
      const queued: TJob[] = [];
      for (const prompt of ['heavy one', 'heavy two', 'heavy three']) queued.push(await queue(heavy, prompt));
      queued.push(await queue(light, 'light one'));
      // The SDK's generate() queues its job and reports its progress, queue position included.
      const sdkUpdates = new Updates();
      const sdkClient = clientFor(server, sdkUser);
      const generated = sdkClient.generate('sdk one', { onProgress: (job) => sdkUpdates.push(job) });
      const sdkQueued = await sdkUpdates.waitFor((job) => job.status === 'queued', 'the queued job');
      owners.set(sdkQueued.id, sdkUser);
      queued.push(sdkQueued);
      // The answer that queued a job already tells its place.
      for (const job of queued) expect(job.queuePosition).toEqual(expect.any(Number));

      // Where each job stands now, over REST; tRPC and the job lists say the same.
      const position = new Map<string, number>();
      for (const job of queued) {
        const rest = await restJob(job.id);
        const trpc = await clientFor(server, owners.get(job.id) as SignedIn).jobs.get.query({ id: job.id });
        expect(rest.status).toBe('queued');
        expect(trpc.queuePosition).toBe(rest.queuePosition);
        // No job has succeeded yet: no run time to estimate from, so no figure at all.
        expect(rest).toMatchObject({ estimatedStartAt: null, estimatedFinishAt: null });
        expect(trpc).toMatchObject({ estimatedStartAt: null, estimatedFinishAt: null });
        position.set(job.id, rest.queuePosition as number);
      }
      expect([...position.values()].sort()).toEqual([1, 2, 3, 4, 5]);
      const heavyList = await callRest(server.url, 'GET', '/jobs?status=queued', undefined, heavy.token);
      for (const listed of heavyList.body as unknown as TJob[])
        expect(listed.queuePosition).toBe(position.get(listed.id));
      // Fairness: every user's first waiting job comes before the heavy user's second.
      const [heavyOne, heavyTwo, heavyThree, lightOne] = queued as [TJob, TJob, TJob, TJob];
      expect(position.get(lightOne.id)).toBeLessThan(position.get(heavyTwo.id) as number);
      expect(position.get(sdkQueued.id)).toBeLessThan(position.get(heavyTwo.id) as number);
      expect(position.get(heavyOne.id)).toBeLessThan(position.get(heavyTwo.id) as number);
      expect(position.get(heavyTwo.id)).toBeLessThan(position.get(heavyThree.id) as number);

      // The last in line is followed live; the SDK's job through generate().
      const last = queued.find((job) => position.get(job.id) === 5) as TJob;
      const lastStream = follow(clientFor(server, owners.get(last.id) as SignedIn), last.id);
      await lastStream.updates.waitFor((job) => job.queuePosition === 5, 'position 5');

      // Each release ends one running job, so exactly one queued job is claimed next: the one numbered next.
      const promptOf = new Map(queued.map((job) => [job.id, job.prompt]));
      const releaseOrder = ['blocker one', 'blocker two'];
      const claimedInOrder: string[] = [];
      let typicalMs = 0;
      for (let claims = 1; claims <= queued.length; claims += 1) {
        held.release(releaseOrder[claims - 1] as string);
        const claimed = await held.nextStarted(claims + 1);
        claimedInOrder.push(claimed);
        releaseOrder.push(claimed);
        const expected = queued.find((job) => position.get(job.id) === claims) as TJob;
        expect(claimed, `claim ${claims}`).toBe(promptOf.get(expected.id));

        // The run times recorded so far: every succeeded job's, read from the jobs themselves.
        const succeeded = await callRest(
          server.url,
          'GET',
          '/admin/jobs?status=succeeded&limit=200',
          undefined,
          admin.token,
        );
        const durations = (succeeded.body.jobs as TJob[])
          .map((job) => job.computeMs as number)
          .sort((a, b) => a - b);
        expect(durations.length).toBeGreaterThan(0);
        const middle = Math.floor(durations.length / 2);
        typicalMs =
          durations.length % 2 === 1
            ? (durations[middle] as number)
            : Math.round(((durations[middle - 1] as number) + (durations[middle] as number)) / 2);

        for (const job of queued) {
          const expectedPosition = (position.get(job.id) as number) - claims;
          if (expectedPosition < 1) continue;
          const before = Date.now();
          const rest = await restJob(job.id);
          const trpc = await clientFor(server, owners.get(job.id) as SignedIn).jobs.get.query({ id: job.id });
          const after = Date.now();
          expect(rest.queuePosition, `${job.prompt} after ${claims} claims`).toBe(expectedPosition);
          expect(trpc.queuePosition).toBe(expectedPosition);
          // Some jobs succeeded: the estimates are there, a typical run apart, and as far out as the jobs
          // ahead need on the workers (each worker frees up within one typical run).
          const start = time(rest.estimatedStartAt);
          expect(time(rest.estimatedFinishAt) - start).toBe(typicalMs);
          const ahead = expectedPosition - 1;
          expect(start).toBeGreaterThanOrEqual(before + Math.floor(ahead / WORKERS) * typicalMs);
          expect(start).toBeLessThanOrEqual(after + (Math.ceil(ahead / WORKERS) + 1) * typicalMs);
          expect(Math.abs(time(trpc.estimatedStartAt) - start)).toBeLessThanOrEqual(after - before);
          // An instance without workers reads the same queue from the same database, and counts the
          // workers the other instance registered.
          const elsewhere = await restJob(job.id, apiOnly);
          expect(elsewhere.queuePosition).toBe(expectedPosition);
          expect(time(elsewhere.estimatedFinishAt)).toBeGreaterThan(time(elsewhere.estimatedStartAt));
        }
        // Live: the followed job and the SDK's job count down as jobs ahead start.
        const lastPosition = 5 - claims;
        if (lastPosition >= 1)
          await lastStream.updates.waitFor(
            (job) => job.queuePosition === lastPosition && job.estimatedStartAt != null,
            `position ${lastPosition} with an estimate`,
          );
        const sdkPosition = (position.get(sdkQueued.id) as number) - claims;
        if (sdkPosition >= 1)
          await sdkUpdates.waitFor((job) => job.queuePosition === sdkPosition, `position ${sdkPosition}`);
      }
      expect(claimedInOrder).toHaveLength(5);

      // A running job is estimated to end a typical run after it started (or now, when it runs late).
      const running = queued.find((job) => position.get(job.id) === 5) as TJob;
      const before = Date.now();
      const runningNow = await restJob(running.id);
      const after = Date.now();
      expect(runningNow).toMatchObject({ status: 'running', queuePosition: null, estimatedStartAt: null });
      const finish = time(runningNow.estimatedFinishAt);
      const typicalEnd = time(runningNow.startedAt) + typicalMs;
      expect(finish).toBeGreaterThanOrEqual(Math.max(before, typicalEnd));
      expect(finish).toBeLessThanOrEqual(Math.max(after, typicalEnd));

      for (const prompt of releaseOrder.slice(5)) held.release(prompt);
      const { job: sdkDone } = await generated;
      expect(sdkDone).toMatchObject({ status: 'succeeded', queuePosition: null, estimatedFinishAt: null });
      await lastStream.updates.waitFor((job) => job.status === 'succeeded', 'success');
      lastStream.stop();
      // Every position was seen, one after another, live and through generate().
      expect(lastStream.updates.positions()).toEqual([5, 4, 3, 2, 1]);
      const sdkStart = position.get(sdkQueued.id) as number;
      expect(sdkUpdates.positions()).toEqual(
        Array.from({ length: sdkStart }, (_, index) => sdkStart - index),
      );
    },
  );
});
