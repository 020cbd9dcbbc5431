import { performance } from 'node:perf_hooks';

import { createGen3dClient, type Gen3dClient, type TJob } from '@gen3d/client';

/** What a soak client does; each kind gets its own count and latency percentiles. */
export const ActionKinds = [
  'login',
  'auth.me',
  'chats',
  'messages',
  'jobs list',
  'job create',
  'job cancel',
  'asset download',
  'stream open',
] as const;
export type ActionKind = (typeof ActionKinds)[number];

/** Relative weights of the actions a client picks from between pauses. */
const WEIGHTS: Array<[ActionKind, number]> = [
  ['login', 3],
  ['auth.me', 25],
  ['chats', 12],
  ['messages', 12],
  ['jobs list', 12],
  ['job create', 14],
  ['job cancel', 4],
  ['asset download', 14],
  ['stream open', 4],
];
const TOTAL_WEIGHT = WEIGHTS.reduce((sum, [, weight]) => sum + weight, 0);

function pickAction(): ActionKind {
  let roll = Math.random() * TOTAL_WEIGHT;
  for (const [kind, weight] of WEIGHTS) {
    roll -= weight;
    if (roll < 0) return kind;
  }
  return 'auth.me';
}

/** Counts, latencies and failures per kind, shared by every client. */
export class SoakTally {
  readonly latencies = new Map<ActionKind, number[]>(ActionKinds.map((kind) => [kind, []]));
  errors = 0;
  serverErrors = 0;
  /** Cancels that found the job already finished (400 JOB_FINISHED): expected, not errors. */
  lateCancels = 0;
  readonly errorSamples: string[] = [];

  record(kind: ActionKind, startedAt: number): void {
    this.latencies.get(kind)?.push(performance.now() - startedAt);
  }

  fail(kind: ActionKind, status: number | undefined, detail: string): void {
    this.errors += 1;
    if (status !== undefined && status >= 500) this.serverErrors += 1;
    if (this.errorSamples.length < 10) this.errorSamples.push(`${kind}: ${status ?? 'no status'} ${detail}`);
  }

  get requests(): number {
    let total = 0;
    for (const samples of this.latencies.values()) total += samples.length;
    return total + this.errors + this.lateCancels;
  }
}

/** Thrown for an answer outside 2xx, with its status. */
class HttpFailure extends Error {
  constructor(
    readonly status: number,
    message: string,
    readonly code?: string,
  ) {
    super(message);
  }
}

function statusOf(error: unknown): number | undefined {
  if (error instanceof HttpFailure) return error.status;
  const data = (error as { data?: { httpStatus?: unknown } } | undefined)?.data;
  return typeof data?.httpStatus === 'number' ? data.httpStatus : undefined;
}

/** The error catalogue's code: tRPC errors carry it in `data.code`, REST ones in the body's `code`. */
function codeOf(error: unknown): string | undefined {
  if (error instanceof HttpFailure) return error.code;
  const data = (error as { data?: { code?: unknown } } | undefined)?.data;
  return typeof data?.code === 'string' ? data.code : undefined;
}

export interface SoakAccount {
  email: string;
  password: string;
}

const FINISHED = new Set(['succeeded', 'failed', 'canceled']);

/**
 * One simulated user on one server instance: a session, a live stream of its jobs (reopened now and then),
 * and a loop of actions with pauses between them. Even clients use REST, odd ones the client SDK (tRPC,
 * SSE); the stream is always the SDK's subscription. At most one of its jobs is unfinished at a time, so
 * the queue stays bounded whatever the machine manages.
 */
export class SoakClient {
  private token = '';
  private readonly sdk: Gen3dClient;
  private subscription: { unsubscribe(): void } | undefined;
  private unfinished: string | undefined;
  private chatId: string | undefined;
  private readonly downloads: string[] = [];

  constructor(
    private readonly url: string,
    private readonly account: SoakAccount,
    private readonly useRest: boolean,
    private readonly tally: SoakTally,
  ) {
    // REST clients' streams carry the token REST's login gave; SDK clients' calls carry the SDK's own session.
    this.sdk = createGen3dClient({
      url,
      headers: (): Record<string, string> => (this.token ? { authorization: `Bearer ${this.token}` } : {}),
    });
  }

  /** Runs actions until `until()` says stop, pausing `thinkMs` on average between them. */
  async run(until: () => boolean, thinkMs: number): Promise<void> {
    await this.act('login');
    await this.act('stream open');
    while (!until()) {
      await new Promise((resolve) => setTimeout(resolve, Math.random() * 2 * thinkMs));
      if (until()) break;
      await this.act(pickAction());
    }
    this.subscription?.unsubscribe();
  }

  private async act(kind: ActionKind): Promise<void> {
    const startedAt = performance.now();
    try {
      const counted = await this.perform(kind);
      if (counted !== false) this.tally.record(counted === true ? kind : counted, startedAt);
    } catch (error) {
      if (kind === 'job cancel' && codeOf(error) === 'JOB_FINISHED') {
        this.tally.lateCancels += 1;
        return;
      }
      this.tally.fail(
        kind,
        statusOf(error),
        error instanceof Error ? error.message.slice(0, 200) : String(error),
      );
    }
  }

  /** Does one action; false when it made no request, or the kind to count it as when it became another. */
  private async perform(kind: ActionKind): Promise<boolean | ActionKind> {
    switch (kind) {
      case 'login':
        if (this.useRest) {
          this.token = (await this.rest<{ token: string }>('POST', '/api/auth/login', this.account)).token;
        } else {
          await this.sdk.login(this.account.email, this.account.password);
        }
        return true;
      case 'auth.me':
        if (this.useRest) await this.rest('GET', '/api/auth/me');
        else await this.sdk.auth.me.query();
        return true;
      case 'chats':
        if (this.useRest) await this.rest('GET', '/api/chats?limit=20');
        else await this.sdk.chats.list.query({ limit: 20 });
        return true;
      case 'messages':
        if (!this.chatId) return this.perform('chats').then(() => 'chats');
        if (this.useRest) await this.rest('GET', `/api/messages?chatId=${this.chatId}&limit=20`);
        else await this.sdk.messages.list.query({ chatId: this.chatId, limit: 20 });
        return true;
      case 'jobs list':
        if (this.useRest) await this.rest('GET', '/api/jobs?limit=20');
        else await this.sdk.jobs.list.query({ limit: 20 });
        return true;
      case 'job create':
        if (this.unfinished) return this.perform('jobs list').then(() => 'jobs list');
        await this.createJob();
        return true;
      case 'job cancel': {
        if (!this.unfinished) {
          const startedAt = performance.now();
          await this.createJob();
          this.tally.record('job create', startedAt);
        }
        const id = this.unfinished as string;
        if (this.useRest) await this.rest('POST', `/api/jobs/${id}/cancel`, {});
        else await this.sdk.jobs.cancel.mutate({ id });
        return true;
      }
      case 'asset download': {
        const url = this.downloads[Math.floor(Math.random() * this.downloads.length)];
        if (!url) return this.perform('jobs list').then(() => 'jobs list');
        const response = await fetch(new URL(url, this.url));
        const body = await response.arrayBuffer();
        if (!response.ok) throw new HttpFailure(response.status, `GET asset answered ${response.status}`);
        if (body.byteLength === 0) throw new HttpFailure(response.status, 'GET asset answered no bytes');
        return true;
      }
      case 'stream open':
        await this.reopenStream();
        return true;
    }
  }

  private async createJob(): Promise<void> {
    const input = {
      prompt: `${1 + Math.floor(Math.random() * 4)} red cubes on a blue sphere`,
      params: { seed: Math.floor(Math.random() * 1_000_000) },
      ...(this.chatId ? { chatId: this.chatId } : {}),
    };
    const job = this.useRest
      ? await this.rest<TJob>('POST', '/api/jobs', input)
      : await this.sdk.generation.create.mutate(input);
    this.chatId ??= job.chatId ?? undefined;
    this.unfinished = job.id;
  }

  /** Closes the live stream of this user's jobs (if open) and opens a new one; resolves once it is connected. */
  private reopenStream(): Promise<void> {
    this.subscription?.unsubscribe();
    return new Promise((resolve, reject) => {
      let started = false;
      this.subscription = this.sdk.generation.watch.subscribe(
        { lastEventId: String(Date.now()) },
        {
          onStarted: () => {
            started = true;
            resolve();
          },
          onData: ({ data }) => this.follow(data),
          onError: (error) => {
            if (!started) reject(error);
            else this.tally.fail('stream open', statusOf(error), `stream: ${error.message.slice(0, 200)}`);
          },
        },
      );
    });
  }

  private follow(job: TJob): void {
    if (!FINISHED.has(job.status)) return;
    if (job.id === this.unfinished) this.unfinished = undefined;
    for (const output of job.outputs) {
      this.downloads.push(output.url);
      // A few recent files are enough to download from; older signed URLs may expire.
      if (this.downloads.length > 8) this.downloads.shift();
    }
  }

  private async rest<T>(method: string, path: string, body?: unknown): Promise<T> {
    const response = await fetch(`${this.url}${path}`, {
      method,
      headers: {
        ...(body === undefined ? {} : { 'content-type': 'application/json' }),
        ...(this.token ? { authorization: `Bearer ${this.token}` } : {}),
      },
      ...(body === undefined ? {} : { body: JSON.stringify(body) }),
    });
    const text = await response.text();
    if (!response.ok) {
      const code = (JSON.parse(text) as { code?: string }).code;
      throw new HttpFailure(
        response.status,
        `${method} ${path} answered ${response.status}: ${text.slice(0, 200)}`,
        code,
      );
    }
    return JSON.parse(text) as T;
  }
}
