import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    include: ['tests/**/*.test.ts', 'embedded-mongo/tests/**/*.test.ts'],
    globalSetup: ['tests/support/temp-dir-per-run.ts'],
    // Safety nets only: every test waits on events, and a busy machine (CI beside other work) may take
    // several times longer than a quiet one to start servers and child processes.
    testTimeout: 120_000,
    hookTimeout: 180_000,
    // Suites start real servers on port 0; two cores run two files at a time comfortably.
    maxWorkers: 2,
    reporters: ['default'],
  },
});
