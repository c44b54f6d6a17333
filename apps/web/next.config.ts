import type { NextConfig } from 'next';
import { PHASE_DEVELOPMENT_SERVER } from 'next/constants';

/**
 * Production: a static export (out/) that the Yoke server serves on its own port, so REST (/api/v1) and
 * socket.io (/web) are same-origin. `trailingSlash` makes every route a directory with an index.html
 * (out/session/index.html), which any static file server resolves without extra rules.
 *
 * `next dev` cannot serve a static export, so in development requests to the API and socket.io are
 * proxied to a running server (YOKE_DEV_SERVER, default http://127.0.0.1:7420), which must list the dev origin in
 * YOKE_ALLOWED_ORIGINS (e.g. http://localhost:3000): it refuses browser writes from any other origin. Build-time config only:
 * this file is the one place in apps/web that reads process.env.
 *
 * `@yoke/protocol` is compiled from its TypeScript source (tsconfig `paths`), not from its CommonJS dist: the
 * ESM source lets the bundler tree-shake zod (about a third of the size), and the web build does not depend
 * on the protocol having been built first.
 */
const base: NextConfig = {
  trailingSlash: true,
  reactStrictMode: true,
  transpilePackages: ['@yoke/protocol', '@yoke/client'],
};

export default function config(phase: string): NextConfig {
  if (phase !== PHASE_DEVELOPMENT_SERVER) return { ...base, output: 'export' };
  const target = process.env.YOKE_DEV_SERVER ?? 'http://127.0.0.1:7420';
  return {
    ...base,
    skipTrailingSlashRedirect: true,
    rewrites: async () => [
      { source: '/api/:path*', destination: `${target}/api/:path*` },
      // socket.io's engine only answers under `/socket.io/`, and Next matches the path without its slash.
      { source: '/socket.io', destination: `${target}/socket.io/` },
    ],
  };
}
