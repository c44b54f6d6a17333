/** Unit tests for the web app's pure modules (src/lib). The root jest config leaves apps/web to this one. */
module.exports = {
  rootDir: __dirname,
  testEnvironment: 'node',
  testMatch: ['<rootDir>/src/**/*.spec.ts'],
  transform: {
    '^.+\\.tsx?$': [
      '@swc/jest',
      { jsc: { parser: { syntax: 'typescript', tsx: true }, target: 'es2022' }, module: { type: 'commonjs' } },
    ],
  },
  moduleNameMapper: {
    '^@/(.*)$': '<rootDir>/src/$1',
    '^@yoke/protocol$': '<rootDir>/../../libs/protocol/src',
    '^@yoke/client$': '<rootDir>/../../libs/client/src',
  },
};
