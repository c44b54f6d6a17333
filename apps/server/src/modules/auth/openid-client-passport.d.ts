// openid-client publishes its passport strategy as the `openid-client/passport` export; this repository resolves
// types the node10 way (no `exports`), so the subpath is declared here from the file it maps to.
declare module 'openid-client/passport' {
  export * from 'openid-client/build/passport';
}
