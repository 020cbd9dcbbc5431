import { once } from 'node:events';

import { read } from 'read';

import { UsageError } from './admin-session.js';

/**
 * Asks for a secret: on a terminal the typed characters are not echoed; from a pipe one line is read.
 * Fails as bad usage when standard input ends before a line arrives.
 */
export async function promptSecret(question: string): Promise<string> {
  const ended = once(process.stdin, 'end').then(() => {
    throw new UsageError('standard input ended before a line was read');
  });
  return Promise.race([read({ prompt: question, silent: true, replace: '' }), ended]);
}
