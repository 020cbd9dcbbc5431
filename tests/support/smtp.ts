import { simpleParser } from 'mailparser';
import { SMTPServer } from 'smtp-server';

export interface ReceivedMail {
  to: string[];
  subject: string;
  text: string;
}

export interface TestSmtpServer {
  url: string;
  received: ReceivedMail[];
  /** Resolves with the first mail to `to` (after the first `since` mails received) whose subject matches. */
  waitForMail(to: string, subject: RegExp, timeoutMs?: number, since?: number): Promise<ReceivedMail>;
  /** How many of the mails received so far went to `to` with a matching subject. */
  countMail(to: string, subject: RegExp): number;
  /** While true, the server refuses every message (a failing SMTP server). */
  failing: boolean;
  close(): Promise<void>;
}

/** A real SMTP server on loopback that keeps what it receives, for reading codes and links in tests. */
export async function startTestSmtpServer(): Promise<TestSmtpServer> {
  const received: ReceivedMail[] = [];
  const waiters = new Set<() => void>();
  const state = { failing: false };
  const server = new SMTPServer({
    disabledCommands: ['STARTTLS', 'AUTH'],
    logger: false,
    onData(stream, session, callback) {
      if (state.failing) {
        stream.resume();
        stream.on('end', () =>
          callback(Object.assign(new Error('mailbox unavailable'), { responseCode: 451 })),
        );
        return;
      }
      simpleParser(stream)
        .then((parsed) => {
          received.push({
            to: session.envelope.rcptTo.map((recipient) => recipient.address.toLowerCase()),
            subject: parsed.subject ?? '',
            text: parsed.text ?? '',
          });
          for (const wake of waiters) wake();
          callback();
        })
        .catch((error: Error) => callback(error));
    },
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', () => resolve()));
  const address = server.server.address();
  const port = typeof address === 'object' && address ? address.port : 0;
  return {
    url: `smtp://127.0.0.1:${port}`,
    received,
    get failing() {
      return state.failing;
    },
    set failing(value: boolean) {
      state.failing = value;
    },
    countMail: (to, subject) =>
      received.filter((mail) => mail.to.includes(to.toLowerCase()) && subject.test(mail.subject)).length,
    waitForMail(to, subject, timeoutMs = 60_000, since = 0) {
      const find = () =>
        received
          .slice(since)
          .find((mail) => mail.to.includes(to.toLowerCase()) && subject.test(mail.subject));
      const found = find();
      if (found) return Promise.resolve(found);
      return new Promise((resolve, reject) => {
        const timer = setTimeout(() => {
          waiters.delete(check);
          reject(new Error(`no mail to ${to} matching ${subject} within ${timeoutMs} ms`));
        }, timeoutMs);
        const check = (): void => {
          const mail = find();
          if (!mail) return;
          clearTimeout(timer);
          waiters.delete(check);
          resolve(mail);
        };
        waiters.add(check);
      });
    },
    close: () => new Promise<void>((resolve) => server.close(() => resolve())),
  };
}

/** The 6-digit code in a verification email. */
export function codeIn(mail: ReceivedMail): string {
  const match = /\b(\d{6})\b/.exec(mail.text);
  if (!match) throw new Error(`no code in mail: ${mail.text}`);
  return match[1] as string;
}

/** The reset token in a password reset email. */
export function resetTokenIn(mail: ReceivedMail): string {
  const match = /token=([\w-]+)/.exec(mail.text);
  if (!match) throw new Error(`no reset link in mail: ${mail.text}`);
  return match[1] as string;
}
