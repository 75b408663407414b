import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    // Tests mirror the source folders under test/ (docs/architecture.md, "Tests").
    include: ['test/**/*.test.ts'],
    testTimeout: 120_000,
    hookTimeout: 300_000,
    // Builds (cargo, go, componentize) are CPU-heavy; two cores -> two files at a time.
    maxWorkers: 2,
    fileParallelism: true,
  },
});
