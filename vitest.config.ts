import { defineConfig } from 'vitest/config';

// Integration suites start real agents, sockets and system daemons; they are split by folder
// and named *.integration.test.ts so a slow one is easy to spot in the report.
export default defineConfig({
  test: {
    include: ['test/**/*.test.ts'],
    setupFiles: ['test/setup/cleanup.ts'],
    pool: 'forks',
    maxWorkers: 2,
    testTimeout: 30_000,
    hookTimeout: 60_000,
    reporters: ['default'],
  },
});
