/** Three tiers: unit (*.spec.ts, no I/O), int (*.int-spec.ts, real Postgres/Redis), e2e (*.e2e-spec.ts, whole system). */
const swc = [
  '@swc/jest',
  {
    jsc: {
      parser: { syntax: 'typescript', decorators: true },
      transform: { legacyDecorator: true, decoratorMetadata: true },
      target: 'es2022',
    },
    module: { type: 'commonjs' },
  },
];
const common = {
  testEnvironment: 'node',
  transform: { '^.+\\.tsx?$': swc },
  moduleNameMapper: {
    '^@yoke/(protocol|harness|policy|omnibox|yaml-guard)$': '<rootDir>/libs/$1/src',
    '^@yoke/runner$': '<rootDir>/apps/runner/src',
  },
  testPathIgnorePatterns: ['/node_modules/', '/dist/', '/apps/web/'],
};
module.exports = {
  projects: [
    { ...common, displayName: 'unit', testMatch: ['<rootDir>/**/*.spec.ts'] },
    {
      ...common,
      displayName: 'int',
      testMatch: ['<rootDir>/**/*.int-spec.ts'],
      setupFilesAfterEnv: ['<rootDir>/test/support/timeouts.int.ts'],
    },
    {
      ...common,
      displayName: 'e2e',
      testMatch: ['<rootDir>/**/*.e2e-spec.ts'],
      setupFilesAfterEnv: ['<rootDir>/test/support/timeouts.e2e.ts'],
    },
  ],
};
