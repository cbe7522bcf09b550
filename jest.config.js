// Tests run the TypeScript sources through swc (types are checked by `tsc` in pretest);
// integration tests start the compiled daemon from dist/ as a real child process.
/** @type {import('jest').Config} */
module.exports = {
  testEnvironment: 'node',
  transform: { '^.+\\.ts$': ['@swc/jest'] },
  testMatch: ['<rootDir>/test/**/*.test.ts'],
  // Tests written ahead of the ports they need (each says which); moved out of pending/ once those land.
  testPathIgnorePatterns: ['/node_modules/', '<rootDir>/test/cluster/pending/'],
  modulePathIgnorePatterns: ['<rootDir>/dist/'],
  testTimeout: 60000,
  maxWorkers: 2,
};
