// The tests StrykerJS runs against each mutant of src/runtime/ (stryker.config.mjs): the
// runtime's own, which exercise it in-process.
import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    include: ['test/runtime/**/*.test.ts'],
    testTimeout: 60_000,
    hookTimeout: 120_000,
    maxWorkers: 1,
  },
});
