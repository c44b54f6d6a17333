/**
 * Tailwind CSS v4 through PostCSS, the way Next picks it up. Its engine ships as prebuilt optional packages
 * (@tailwindcss/oxide-<platform>, lightningcss-<platform>), so the build needs no install script.
 */
const config = {
  plugins: { '@tailwindcss/postcss': {} },
};

export default config;
