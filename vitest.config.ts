import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    include: ['test/**/*.test.ts', 'src/**/*.test.ts', 'adapters/**/*.test.ts'],
    testTimeout: 120_000,
    hookTimeout: 300_000,
    // Builds (cargo, go, componentize) are CPU-heavy; two cores -> two files at a time.
    maxWorkers: 2,
    fileParallelism: true,
  },
});
