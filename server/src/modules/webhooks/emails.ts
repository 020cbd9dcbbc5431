import type { MailMessage } from '../../infra/mailer.js';

export function endpointDisabledEmail(to: string, url: string, reason: string): MailMessage {
  return {
    to,
    subject: 'Your gen3d webhook endpoint was disabled',
    text: `Deliveries to your webhook endpoint\n\n  ${url}\n\nkept failing (${reason}), so gen3d disabled it and sends it nothing more.\n\nOnce the endpoint answers again with a 2xx status, enable it (PATCH /api/webhooks/{id} with {"enabled": true}) and redeliver the deliveries you missed from its delivery log.\n`,
  };
}
