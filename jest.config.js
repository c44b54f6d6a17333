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
    '^@yoke/(protocol|spec|audit|harness|policy|omnibox|client)$': '<rootDir>/libs/$1/src',
    '^@yoke/runner$': '<rootDir>/apps/runner/src',
  },
  testPathIgnorePatterns: ['/node_modules/', '/dist/', '/apps/web/'],
};
/** Postgres and Redis of the int and e2e tiers: env vars, else containers, else local (test/support/services.ts). */
const services = {
  globalSetup: '<rootDir>/test/support/global-setup.ts',
  globalTeardown: '<rootDir>/test/support/global-teardown.ts',
};
module.exports = {
  // A handle a failed suite left open must end the run with its failure, not hold it until CI's time runs out.
  forceExit: true,
  projects: [
    {
      ...common,
      displayName: 'unit',
      testMatch: ['<rootDir>/**/*.spec.ts'],
      globalSetup: '<rootDir>/test/support/test-home.ts',
    },
    {
      ...common,
      displayName: 'int',
      testMatch: ['<rootDir>/**/*.int-spec.ts'],
      // Repositories are Nest providers, and Nest 12 ships ES modules only, which Jest's CommonJS runtime cannot load:
      // compile @nestjs/common (and its small ESM dependencies) to CommonJS like our own sources.
      transform: { '^.+\\.[tj]sx?$': swc },
      transformIgnorePatterns: ['/node_modules/(?!(@nestjs|uid|load-esm|iterare|@standard-schema)/)'],
      setupFilesAfterEnv: ['<rootDir>/test/support/timeouts.int.ts'],
      ...services,
    },
    {
      ...common,
      displayName: 'e2e',
      testMatch: ['<rootDir>/**/*.e2e-spec.ts'],
      setupFilesAfterEnv: ['<rootDir>/test/support/timeouts.e2e.ts'],
      ...services,
    },
  ],
};
