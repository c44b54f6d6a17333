import { type RequestHandler, static as serveStatic } from 'express';

/**
 * The web UI's static export, for every path but the server's own: an API route (under `/${apiPrefix}`), a probe
 * (`unprefixed`) or socket.io never looks for a file (a `stat` per request, and per extension tried, on the hot
 * reads), and no exported file can shadow one.
 */
export function webExport(dir: string, server: { apiPrefix: string; unprefixed: readonly string[] }): RequestHandler {
  const serve = serveStatic(dir, { extensions: ['html'], index: 'index.html' });
  const api = `/${server.apiPrefix}`;
  const probes = new Set(server.unprefixed.map((p) => `/${p}`));
  return (req, res, next) => {
    const path = req.path;
    if (path === api || path.startsWith(`${api}/`) || probes.has(path) || path.startsWith('/socket.io/')) {
      return next();
    }
    return serve(req, res, next);
  };
}
