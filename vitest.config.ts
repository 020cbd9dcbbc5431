import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    include: ['tests/**/*.test.ts', 'embedded-mongo/tests/**/*.test.ts'],
    testTimeout: 30_000,
    hookTimeout: 60_000,
    // Suites start real servers on port 0; two cores run two files at a time comfortably.
    maxWorkers: 2,
    reporters: ['default'],
  },
});
