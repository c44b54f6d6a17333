/** The variables holding the model keys a runner hands its harnesses (each harness needs one for its vendor). */
export const MODEL_KEY_VARS = ['ANTHROPIC_API_KEY', 'OPENAI_API_KEY'] as const;
export type ModelKeyVar = (typeof MODEL_KEY_VARS)[number];

const MISSING_SUFFIX = 'is not set on this runner';
const MISSING = new RegExp(`\\b(${MODEL_KEY_VARS.join('|')}) ${MISSING_SUFFIX}\\b`);

/**
 * The error a harness throws when it would call a vendor's own endpoint without its key. Agent processes report it
 * as text across their IPC channel, so the runner recognises it by `missingModelKey`, not by its class.
 */
export function missingModelKeyError(name: ModelKeyVar): Error {
  return new Error(`${name} ${MISSING_SUFFIX}`);
}

/** Which model key a failure message says is missing, or null when it says nothing of the kind. */
export function missingModelKey(text: string): ModelKeyVar | null {
  return (MISSING.exec(text)?.[1] as ModelKeyVar | undefined) ?? null;
}
