import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    include: ['test/**/*.test.ts'],
    reporters: ['default', './test/summary-reporter.ts'],
    // Property tests run many cases; the default 5 s is too tight on 2-core CI machines.
    testTimeout: 60_000,
  },
});
