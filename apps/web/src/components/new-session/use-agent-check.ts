'use client';

import type { AgentIssue, AgentSummary } from '@yoke/protocol';
import { useEffect, useState } from 'react';
import { ApiError } from '@/lib/api';
import { validateAgentYaml } from '@/lib/agents-api';

export type AgentCheck =
  | { status: 'empty' }
  | { status: 'checking' }
  | { status: 'ok'; agent: AgentSummary }
  | { status: 'invalid'; message: string; issues: AgentIssue[] }
  | { status: 'error'; message: string };

const DELAY_MS = 300;

/**
 * The server's verdict on the editor's YAML, asked a moment after typing stops (the same checks a session or a save
 * makes). A saved agent shown as saved needs no asking: `known` is its summary.
 */
export function useAgentCheck(yaml: string, known: AgentSummary | null): AgentCheck {
  const [check, setCheck] = useState<AgentCheck>({ status: 'empty' });

  useEffect(() => {
    if (known) {
      setCheck({ status: 'ok', agent: known });
      return;
    }
    if (!yaml.trim()) {
      setCheck({ status: 'empty' });
      return;
    }
    setCheck({ status: 'checking' });
    const ctl = new AbortController();
    const timer = setTimeout(() => {
      validateAgentYaml(yaml, ctl.signal).then(
        (v) =>
          setCheck(
            v.ok ? { status: 'ok', agent: v.agent } : { status: 'invalid', message: v.message, issues: v.issues },
          ),
        (err: unknown) => {
          if (ctl.signal.aborted) return;
          setCheck({
            status: 'error',
            message: err instanceof ApiError ? err.message : 'The agent could not be checked.',
          });
        },
      );
    }, DELAY_MS);
    return () => {
      clearTimeout(timer);
      ctl.abort();
    };
  }, [yaml, known]);

  return check;
}
