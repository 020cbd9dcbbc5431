import type { ZxcvbnFactory, ZxcvbnResult } from '@zxcvbn-ts/core';

import { DomainError } from '../domain-errors.js';

let estimator: Promise<ZxcvbnFactory> | undefined;

/** The estimator and its dictionaries are large: they are loaded on the first check, once, and shared. */
function loadEstimator(): Promise<ZxcvbnFactory> {
  estimator ??= (async () => {
    const [{ ZxcvbnFactory }, common, english] = await Promise.all([
      import('@zxcvbn-ts/core'),
      import('@zxcvbn-ts/language-common'),
      import('@zxcvbn-ts/language-en'),
    ]);
    return new ZxcvbnFactory({
      translations: english.translations,
      graphs: common.adjacencyGraphs,
      dictionary: { ...common.dictionary, ...english.dictionary },
    });
  })();
  return estimator;
}

/** zxcvbn's estimate of a password, with the account's own email and name counted as guessable words. */
export async function estimatePassword(password: string, userInputs: string[]): Promise<ZxcvbnResult> {
  // The whole input, the name before an email's @, and each word of them.
  const inputs = userInputs
    .flatMap((input) => [input, input.split('@')[0] ?? '', ...input.split(/[@.\s_-]+/)])
    .filter(Boolean);
  return (await loadEstimator()).check(password, inputs);
}

function reasonOf({ feedback }: ZxcvbnResult): string {
  const parts = [feedback.warning, ...feedback.suggestions].filter((part): part is string => !!part);
  return parts.length > 0 ? parts.join(' ') : 'Add more words or characters that are hard to guess.';
}

/**
 * Refuses a common, breached or otherwise easily guessed password (zxcvbn's score below `minScore`) with
 * WEAK_PASSWORD and zxcvbn's reason. Length is checked by the input schemas; there are no composition rules.
 */
export async function assertStrongPassword(
  password: string,
  userInputs: string[],
  minScore: number,
): Promise<void> {
  const result = await estimatePassword(password, userInputs);
  if (result.score < minScore)
    throw new DomainError('WEAK_PASSWORD', `This password is too easy to guess. ${reasonOf(result)}`);
}
