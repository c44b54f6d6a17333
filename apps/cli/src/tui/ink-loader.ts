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
  // Ink draws nothing but its last frame, on exit, where it believes it runs in CI (`CI` or `CONTINUOUS_INTEGRATION`
  // set), and reads that once, when it loads. The chat UI starts only in a terminal (`chatCommand` checks), where a
  // live view is the point, also in a CI job's or a container's shell: it loads with both set to '0', then restored.
  const saved = { CI: process.env.CI, CONTINUOUS_INTEGRATION: process.env.CONTINUOUS_INTEGRATION };
  process.env.CI = '0';
  process.env.CONTINUOUS_INTEGRATION = '0';
  try {
    return (await import(specifier)) as Ink;
  } finally {
    for (const [name, value] of Object.entries(saved)) {
      if (value === undefined) delete process.env[name];
      else process.env[name] = value;
    }
  }
}
