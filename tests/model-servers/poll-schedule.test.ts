import { describe, expect, it } from 'vitest';

import { startReferenceModelServer } from '@gen3d/server';

import { useAdapterSuite } from '../support/contracts/adapter-suite.js';
import {
  forwardRequest,
  sendJson,
  sendUpstreamAnswer,
  startContractServer,
  type ContractServer,
} from '../support/contracts/contract-server.js';

/** One status poll of a task, as the model server saw it. */
interface Poll {
  at: number;
  /** When the answer went out. */
  answeredAt: number;
}

interface PacedModelServer extends ContractServer {
  /** Status polls a task answers "running" to before the reference server's own answer (default 0). */
  pollsUntilDone: number;
  /** How long each status answer takes (default 0). */
  answerDelayMs: number;
  /** Status polls per task id, in order. */
  polls: Map<string, Poll[]>;
}

/**
 * The reference model server behind a proxy that keeps each task "running" for its first `pollsUntilDone`
 * status polls, answering each after `answerDelayMs`, and notes when every poll came and was answered.
 */
async function startPacedModelServer(): Promise<PacedModelServer> {
  const reference = await startReferenceModelServer({ host: '127.0.0.1', port: 0, durationMs: 0 });
  const polls = new Map<string, Poll[]>();
  const settings = { pollsUntilDone: 0, answerDelayMs: 0 };
  const proxy = await startContractServer(async (request, response) => {
    const taskId = /^\/v1\/generations\/([^/]+)$/.exec(request.path)?.[1];
    const poll = taskId && request.method === 'GET' ? { at: request.at, answeredAt: 0 } : undefined;
    if (taskId && poll) polls.set(taskId, [...(polls.get(taskId) ?? []), poll]);
    if (poll && settings.answerDelayMs > 0)
      await new Promise((resolve) => setTimeout(resolve, settings.answerDelayMs));
    if (taskId && poll && (polls.get(taskId)?.length ?? 0) <= settings.pollsUntilDone) {
      poll.answeredAt = Date.now();
      return sendJson(response, 200, { id: taskId, status: 'running', progress: 10 });
    }
    const answer = await forwardRequest(reference.url, request);
    if (poll) poll.answeredAt = Date.now();
    sendUpstreamAnswer(response, answer);
  });
  return {
    ...proxy,
    polls,
    get pollsUntilDone() {
      return settings.pollsUntilDone;
    },
    set pollsUntilDone(value: number) {
      settings.pollsUntilDone = value;
    },
    get answerDelayMs() {
      return settings.answerDelayMs;
    },
    set answerDelayMs(value: number) {
      settings.answerDelayMs = value;
    },
    close: async () => {
      await proxy.close();
      await reference.close();
    },
  };
}

/** The task the model server started for the latest job (the last POST's answer names it). */
function latestTaskPolls(server: PacedModelServer): Poll[] {
  return [...server.polls.values()].at(-1) ?? [];
}

/**
 * Timers count from the event loop's clock, read once per turn, and the model server notes arrivals to the
 * millisecond: a wait may look up to this much shorter than asked. A busy machine only makes waits longer.
 */
const CLOCK_SLACK_MS = 2;

/** Each poll came no sooner than the wait `expected[i]` after the previous poll was answered. */
function expectWaitsAtLeast(polls: Poll[], expected: number[]): void {
  const waits = polls.slice(1).map((poll, index) => poll.at - (polls[index] as Poll).answeredAt);
  expect(waits).toHaveLength(expected.length);
  waits.forEach((wait, index) =>
    expect(wait, `wait before poll ${index + 2}: ${JSON.stringify(waits)}`).toBeGreaterThanOrEqual(
      (expected[index] as number) - CLOCK_SLACK_MS,
    ),
  );
}

describe('model-server polls: at once, then backing off (poll interval one minute)', () => {
  // With a one-minute cap, a task finished after its fifth poll is only seen within the test's
  // timeout if the adapter polls at once and then backs off from 10 ms.
  const suite = useAdapterSuite(startPacedModelServer, (paced) => ({
    MODEL_SERVER_URL: paced.url,
    MODEL_SERVER_POLL_INTERVAL_MS: '60000',
  }));

  it('learns of a finished task at once: polls at submit, then after 10, 20, 40, 80 ms', async () => {
    suite.double.pollsUntilDone = 4;
    const { job } = await suite.run('three red cubes');
    expect(job.status, JSON.stringify(job.error)).toBe('succeeded');
    const polls = latestTaskPolls(suite.double);
    expect(polls).toHaveLength(5);
    expectWaitsAtLeast(polls, [10, 20, 40, 80]);
  });

  it('asks a task that is done at once only once', async () => {
    suite.double.pollsUntilDone = 0;
    const { job } = await suite.run('a blue sphere');
    expect(job.status, JSON.stringify(job.error)).toBe('succeeded');
    expect(latestTaskPolls(suite.double)).toHaveLength(1);
  });
});

describe('model-server polls of a slow task (poll interval 100 ms)', () => {
  const suite = useAdapterSuite(startPacedModelServer, (paced) => ({
    MODEL_SERVER_URL: paced.url,
    MODEL_SERVER_POLL_INTERVAL_MS: '100',
  }));

  it('never polls sooner than the back-off allows, and no faster than the interval once there', async () => {
    suite.double.pollsUntilDone = 8;
    const { job } = await suite.run('two green cones');
    expect(job.status, JSON.stringify(job.error)).toBe('succeeded');
    expectWaitsAtLeast(latestTaskPolls(suite.double), [10, 20, 40, 80, 100, 100, 100, 100]);
  });

  it('waits for a slow answer before counting the next wait: one poll at a time', async () => {
    suite.double.pollsUntilDone = 5;
    suite.double.answerDelayMs = 150;
    try {
      const { job } = await suite.run('a yellow torus');
      expect(job.status, JSON.stringify(job.error)).toBe('succeeded');
      const polls = latestTaskPolls(suite.double);
      expectWaitsAtLeast(polls, [10, 20, 40, 80, 100]);
      polls.slice(1).forEach((poll, index) => expect(poll.at).toBeGreaterThan((polls[index] as Poll).at));
    } finally {
      suite.double.answerDelayMs = 0;
    }
  });
});
