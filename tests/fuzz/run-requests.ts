import type { DocumentValidator } from './openapi-operations.js';
import type { Finding, FuzzRequest } from './rest-fuzzer.js';

/** Traces of the server's insides that no answer may show. */
const INTERNALS = /\n\s+at |node_modules|\/work\/|\/home\/|[A-Za-z]:\\|\.ts:\d+:\d+|\.js:\d+:\d+/;

export interface FuzzReport {
  requests: number;
  byStatus: Map<number, number>;
  findings: Finding[];
}

function describe(request: FuzzRequest): string {
  const url = request.url.length > 160 ? `${request.url.slice(0, 160)}…` : request.url;
  const body =
    request.body === undefined
      ? ''
      : ` ${request.body.length > 160 ? `${request.body.slice(0, 160)}…` : request.body}`;
  return `${request.identity} ${request.kind}: ${request.method} ${url}${body}`;
}

/** What is wrong with one answer, judged against the operation's declared statuses and schemas. */
function judge(request: FuzzRequest, status: number, text: string, validator: DocumentValidator): string[] {
  const problems: string[] = [];
  if (status >= 500) problems.push(`answered ${status}`);
  if (!request.operation.responses.has(status))
    problems.push(
      `answered ${status}, which the operation does not declare (${[...request.operation.responses.keys()].join(', ')})`,
    );
  if (request.inputValid === false && status >= 200 && status < 300)
    problems.push(`accepted schema-invalid input with ${status}`);
  if (INTERNALS.test(text)) problems.push(`the body shows internals: ${text.slice(0, 200)}`);
  const schema = request.operation.responses.get(status);
  if (schema && text !== '') {
    let body: unknown;
    try {
      body = JSON.parse(text);
    } catch {
      problems.push(`the ${status} body is not JSON: ${text.slice(0, 120)}`);
      return problems;
    }
    const { ok, why } = validator.matches(schema, body);
    if (!ok) problems.push(`the ${status} body does not match its schema (${why}): ${text.slice(0, 200)}`);
  }
  return problems;
}

/**
 * Sends the requests, `concurrency` at a time, and judges every answer; `/health` is asked every
 * `healthEvery` requests and must answer 200. Between rounds `beforeRound` may renew sessions.
 */
export async function runRequests(
  baseUrl: string,
  requests: FuzzRequest[],
  validator: DocumentValidator,
  options: { concurrency: number; healthEvery: number; beforeRound?: () => Promise<void> },
): Promise<FuzzReport> {
  const report: FuzzReport = { requests: 0, byStatus: new Map(), findings: [] };
  for (let start = 0; start < requests.length; start += options.healthEvery) {
    await options.beforeRound?.();
    const round = requests.slice(start, start + options.healthEvery);
    let next = 0;
    const worker = async (): Promise<void> => {
      while (next < round.length) {
        const request = round[next++] as FuzzRequest;
        let status: number;
        let text: string;
        try {
          const response = await fetch(`${baseUrl}${request.url}`, {
            method: request.method,
            headers: request.headers,
            ...(request.body === undefined ? {} : { body: request.body }),
          });
          status = response.status;
          text = await response.text();
        } catch (error) {
          report.findings.push({ request: describe(request), problem: `no answer (${String(error)})` });
          continue;
        }
        report.requests += 1;
        report.byStatus.set(status, (report.byStatus.get(status) ?? 0) + 1);
        for (const problem of judge(request, status, text, validator))
          report.findings.push({ request: describe(request), problem });
      }
    };
    await Promise.all(Array.from({ length: options.concurrency }, () => worker()));
    const health = await fetch(`${baseUrl}/health`)
      .then((response) => response.status)
      .catch(() => 0);
    if (health !== 200)
      report.findings.push({
        request: `GET /health after ${start + round.length} requests`,
        problem: `answered ${health}`,
      });
  }
  return report;
}
