// The repo's Prettier settings, plus one exception: Next.js regenerates next-env.d.ts on every build with
// double quotes, so that file is checked with Next's own quoting.
module.exports = {
  ...require('../../.prettierrc.json'),
  overrides: [{ files: 'next-env.d.ts', options: { singleQuote: false } }],
};
