// Mutation testing of the runtime (src/runtime/: WASI host, CGI, the contract, invocation, the
// memory policy, the binary codec, outbound): `npm run mutate`. Not in CI (minutes to hours on two cores). A
// smaller scope: `npm run mutate -- --mutate src/runtime/cgi.ts`. The tests are the runtime's
// own (vitest.stryker.config.ts): they run in-process against the mutated source, fast enough
// to run once per mutant; the end-to-end suites are too slow for that.
/** @type {import('@stryker-mutator/api/core').PartialStrykerOptions} */
export default {
  testRunner: 'vitest',
  plugins: ['@stryker-mutator/vitest-runner'],
  vitest: { configFile: 'vitest.stryker.config.ts' },
  // src/runtime/node/ runs in worker threads that load lib/: its mutants could not be killed.
  mutate: ['src/runtime/**/*.ts', '!src/runtime/node/**'],
  coverageAnalysis: 'perTest',
  // Two cores shared with everything else: one mutant at a time.
  concurrency: 1,
  timeoutMS: 30_000,
  timeoutFactor: 3,
  reporters: ['clear-text', 'progress', 'html', 'json'],
  htmlReporter: { fileName: 'reports/mutation/index.html' },
  jsonReporter: { fileName: 'reports/mutation/mutation.json' },
  tempDirName: '.stryker-tmp',
  cleanTempDir: true,
  thresholds: { high: 80, low: 60, break: null },
};
