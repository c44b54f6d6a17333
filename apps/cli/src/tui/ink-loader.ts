import type * as InkModule from 'ink' with { 'resolution-mode': 'import' };

export type Ink = typeof InkModule;

/**
 * Ink 6 is an ES module with top-level await (yoga-layout), which `require` cannot load, and the CLI is CommonJS.
 * The CLI compiles with `module: node16`, which keeps a dynamic `import()` as it is in CommonJS output; the
 * specifier is a variable so that type checks under the root config (`moduleResolution: node`) do not try to
 * resolve the ESM-only package. Only the interactive UI loads it: `yoke run`, `--json` and tests never do.
 */
export async function loadInk(): Promise<Ink> {
  const specifier: string = 'ink';
  return (await import(specifier)) as Ink;
}
