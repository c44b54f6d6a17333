/**
 * Reasons are shown to people and stored in the session log, so they never carry secret-looking values: tokens
 * with well-known prefixes, bearer credentials, long opaque strings, and the values of secret-named keys, flags and
 * variables. Long text is clipped.
 */
const REDACTED = '[redacted]';

const SECRET_NAME =
  '[A-Za-z0-9_.-]*(?:token|secret|passw(?:or)?d|pwd|api[_-]?key|apikey|private[_-]?key|credential|auth|key)[A-Za-z0-9_.-]*';

const PATTERNS: [RegExp, string][] = [
  // Well-known token shapes.
  [/\b(?:sk|rk|pk)-[A-Za-z0-9_-]{8,}/g, REDACTED],
  [/\b(?:ghp|gho|ghu|ghs|ghr)_[A-Za-z0-9]{8,}/g, REDACTED],
  [/\bgithub_pat_[A-Za-z0-9_]{8,}/g, REDACTED],
  [/\bglpat-[A-Za-z0-9_-]{8,}/g, REDACTED],
  [/\bxox[abposr]-[A-Za-z0-9-]{8,}/g, REDACTED],
  [/\b(?:AKIA|ASIA)[A-Z0-9]{12,}/g, REDACTED],
  [/\bAIza[A-Za-z0-9_-]{20,}/g, REDACTED],
  [/\beyJ[A-Za-z0-9_-]{8,}\.[A-Za-z0-9_-]{8,}(?:\.[A-Za-z0-9_-]+)?/g, REDACTED],
  [/-----BEGIN [A-Z ]*PRIVATE KEY-----[\s\S]*?(?:-----END [A-Z ]*PRIVATE KEY-----|$)/g, REDACTED],
  // Credentials in URLs and headers.
  [/(\/\/[^/\s:@]+:)[^@\s/]+@/g, `$1${REDACTED}@`],
  [/\b(Bearer|Basic|token)\s+[A-Za-z0-9._~+/=-]{8,}/gi, `$1 ${REDACTED}`],
  // NAME=value, --name=value, --name value, "name": "value", name: value.
  [new RegExp(`\\b(${SECRET_NAME})(\\s*[=:]\\s*)("[^"]*"|'[^']*'|[^\\s,;&|}]+)`, 'gi'), `$1$2${REDACTED}`],
  [new RegExp(`("${SECRET_NAME}"\\s*:\\s*)"(?:[^"\\\\]|\\\\.)*"`, 'gi'), `$1"${REDACTED}"`],
  [new RegExp(`(--${SECRET_NAME}\\s+)(?!-)("[^"]*"|'[^']*'|\\S+)`, 'gi'), `$1${REDACTED}`],
  // Long opaque strings (hex or base64-ish runs) are likely keys.
  [/\b[A-Fa-f0-9]{40,}\b/g, REDACTED],
  [
    /\b(?=[A-Za-z0-9+/_-]*[0-9])(?=[A-Za-z0-9+/_-]*[A-Z])(?=[A-Za-z0-9+/_-]*[a-z])[A-Za-z0-9+/_-]{32,}={0,2}/g,
    REDACTED,
  ],
];

export function redactText(text: string, max = 200): string {
  // Only what can be shown is scanned; the margin keeps a secret that starts before the cut whole for its pattern.
  let out = text.length > max + 512 ? text.slice(0, max + 512) : text;
  for (const [re, replacement] of PATTERNS) out = out.replace(re, replacement);
  return clip(out, max);
}

export function clip(text: string, max: number): string {
  const oneLine = text.replace(/\s*\n\s*/g, ' ⏎ ');
  return oneLine.length > max ? `${oneLine.slice(0, max - 1)}…` : oneLine;
}
