import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    include: ['test/**/*.test.ts'],
    testTimeout: 60_000,
    hookTimeout: 120_000,
    // Tests create real containers as root: one file at a time, each in its own process.
    pool: 'forks',
    fileParallelism: false,
    reporters: ['default'],
  },
});
