import { keySource, keysSetCommandLine, MODEL_PROVIDERS, ModelKeysFileError, readModelKeys } from './model-keys';
import { type HostFacts, readHostFacts, sandboxProblems } from './sandbox-prerequisites';

export interface PreflightWarning {
  problem: string;
  fix: string;
}

/**
 * What `yoke start` checks while its server boots: the sandbox (bubblewrap, user namespaces) and that some model key
 * reaches the local runner. Each problem comes with the one command that fixes it; none stops the server.
 */
export async function startPreflight(
  home: string,
  defaultHome: string,
  env: NodeJS.ProcessEnv,
  host: HostFacts = readHostFacts(),
): Promise<PreflightWarning[]> {
  const warnings: PreflightWarning[] = [];
  if ((env.YOKE_SANDBOX ?? '').trim().toLowerCase() !== 'none') {
    for (const p of await sandboxProblems(host)) {
      warnings.push({ problem: `harness sessions cannot run sandboxed here: ${p.detail}`, fix: p.fix });
    }
  }
  try {
    const stored = readModelKeys(home);
    if (MODEL_PROVIDERS.every((p) => keySource(p, env, stored, home).kind === 'missing')) {
      warnings.push({
        problem: 'no model key: none of ANTHROPIC_API_KEY, OPENAI_API_KEY or GEMINI_API_KEY reaches the local runner',
        fix: `${keysSetCommandLine('anthropic', home, defaultHome)} (or openai, gemini); no restart needed`,
      });
    }
  } catch (err) {
    if (!(err instanceof ModelKeysFileError)) throw err;
    warnings.push({ problem: `the keys file is not used: it ${err.problem}`, fix: err.fix });
  }
  return warnings;
}

export function formatPreflightWarnings(warnings: PreflightWarning[]): string {
  if (warnings.length === 0) return '';
  const lines = warnings.flatMap((w) => [`yoke: warning: ${w.problem}`, `  fix: ${w.fix}`]);
  lines.push('  `yoke doctor` checks everything a turn needs.');
  return `${lines.join('\n')}\n`;
}
