// The tests StrykerJS runs against each mutant of src/runtime/ (stryker.config.mjs): the
// runtime's own tests that run it in-process. Not contract.test.ts and node/: their worker
// threads load lib/ (the built copy), which a mutant of src/ never reaches. Not go-memory.test.ts:
// it builds a Go function first (minutes), which every static mutant would repeat.
import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    include: ['test/runtime/*.test.ts'],
    exclude: ['test/runtime/contract.test.ts', 'test/runtime/go-memory.test.ts'],
    testTimeout: 60_000,
    hookTimeout: 120_000,
    maxWorkers: 1,
  },
});
