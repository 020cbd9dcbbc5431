import { DomainError } from '../../domain-errors.js';
import { AddressRefusedError, type AddressPolicy } from '../../infra/public-addresses.js';

export interface EndpointUrlRules {
  policy: AddressPolicy;
  allowedHosts: readonly string[];
  requireHttps: boolean;
}

function refused(message: string, issue: string): DomainError {
  return new DomainError('WEBHOOK_URL_REFUSED', message, { issues: [{ path: 'url', message: issue }] });
}

function resolve(policy: AddressPolicy, host: string): Promise<void> {
  return new Promise((done, fail) => {
    policy.lookup(host, { all: true }, (error: NodeJS.ErrnoException | null) =>
      error ? fail(error) : done(),
    );
  });
}

/**
 * Checks an endpoint URL when it is registered or changed: http(s) only, https in production unless the
 * host is allowed, no credentials in it, and every address its host resolves to public (or the host on
 * WEBHOOK_ALLOWED_HOSTS). Deliveries check the addresses again when they connect, as DNS may change.
 */
export async function checkEndpointUrl(raw: string, rules: EndpointUrlRules): Promise<void> {
  const url = new URL(raw);
  const host = url.hostname.replace(/^\[(.*)\]$/, '$1').toLowerCase();
  const allowed = rules.allowedHosts.some(
    (entry) => entry.replace(/^\[(.*)\]$/, '$1').toLowerCase() === host,
  );
  if (url.protocol !== 'https:' && url.protocol !== 'http:')
    throw refused('The webhook URL must be http:// or https://', 'not an http(s) URL');
  if (url.protocol === 'http:' && rules.requireHttps && !allowed)
    throw refused('The webhook URL must be https:// (deliveries carry your data)', 'https required');
  if (url.username || url.password)
    throw refused(
      'The webhook URL must not carry a user name or password; verify deliveries by their signature',
      'credentials in the URL',
    );
  try {
    rules.policy.checkUrl(url);
    await resolve(rules.policy, url.hostname.replace(/^\[(.*)\]$/, '$1'));
  } catch (error) {
    if (error instanceof AddressRefusedError)
      throw refused(
        `The webhook URL is refused: ${error.message}; deliveries go to public addresses only, unless WEBHOOK_ALLOWED_HOSTS names the host`,
        `not a public address (${error.range})`,
      );
    throw refused(`The webhook URL's host ${url.hostname} could not be resolved`, 'host not found');
  }
}
