import type * as InkModule from 'ink' with { 'resolution-mode': 'import' };
import type * as ReactModule from 'react';

export type Ink = typeof InkModule;
export type React = typeof ReactModule;

/**
 * Ink 6 is an ES module with top-level await (yoga-layout), which `require` cannot load, and the CLI is CommonJS.
 * The CLI compiles with `module: node16`, which keeps a dynamic `import()` as it is in CommonJS output; the
 * specifier is a variable so that type checks under the root config (`moduleResolution: node`) do not try to
 * resolve the ESM-only package. Only the interactive UI loads it: `yoke run`, `--json` and tests never do.
 *
 * React is loaded here too, with Ink, and the view takes it from here (never from a top-level import): React and
 * its reconciler pick their production or development build from `NODE_ENV` when they load, and the development
 * build (checks, component timings for devtools) made every frame several times dearer, enough to hold back a
 * streamed answer's first characters behind the frames of the items before it.
 */
export async function loadInk(): Promise<{ ink: Ink; react: React }> {
  const specifier: string = 'ink';
  const reactSpecifier: string = 'react';
  // Ink draws nothing but its last frame, on exit, where it believes it runs in CI (`CI` or `CONTINUOUS_INTEGRATION`
  // set), and reads that once, when it loads. The chat UI starts only in a terminal (`chatCommand` checks), where a
  // live view is the point, also in a CI job's or a container's shell: it loads with both set to '0', then restored.
  // `NODE_ENV` is 'production' while React loads, unless it was set (a developer who wants React's checks sets it).
  const saved = {
    CI: process.env.CI,
    CONTINUOUS_INTEGRATION: process.env.CONTINUOUS_INTEGRATION,
    NODE_ENV: process.env.NODE_ENV,
  };
  process.env.CI = '0';
  process.env.CONTINUOUS_INTEGRATION = '0';
  process.env.NODE_ENV = saved.NODE_ENV || 'production';
  try {
    const react = ((await import(reactSpecifier)) as { default: React }).default;
    return { ink: (await import(specifier)) as Ink, react };
  } finally {
    for (const [name, value] of Object.entries(saved)) {
      if (value === undefined) delete process.env[name];
      else process.env[name] = value;
    }
  }
}
