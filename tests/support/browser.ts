import { existsSync } from 'node:fs';

import { chromium, type Browser } from 'playwright-core';
import { afterAll, beforeAll } from 'vitest';

// Debian's chromium (.ci/run installs it); CI sets REQUIRE_BROWSER_TESTS so a missing browser fails there.
const CHROMIUM = process.env.CHROMIUM_PATH ?? '/usr/bin/chromium';

/** Whether browser tests run here: a browser is installed, or CI requires them (and fails without one). */
export const browserAvailable = existsSync(CHROMIUM) || process.env.REQUIRE_BROWSER_TESTS === '1';

/** Says once why browser tests are skipped on a machine without a browser. */
export function warnWithoutBrowser(what: string): void {
  if (!browserAvailable)
    console.warn(
      `skipping ${what}: no browser at ${CHROMIUM} (apt-get install chromium, or set CHROMIUM_PATH)`,
    );
}

/** A headless Chromium for the suite (SwiftShader gives it WebGL without a GPU, when asked). */
export function useBrowser(extraArgs: string[] = []): () => Browser {
  let browser: Browser | undefined;
  beforeAll(async () => {
    browser = await chromium.launch({ executablePath: CHROMIUM, args: ['--no-sandbox', ...extraArgs] });
  });
  afterAll(async () => {
    await browser?.close();
  });
  return () => {
    if (!browser) throw new Error('the browser is not started yet');
    return browser;
  };
}
