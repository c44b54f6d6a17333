'use client';

import type { DryRunReport, PolicyIssue } from '@yoke/protocol';
import { useEffect, useRef, useState } from 'react';
import { describeError, listSessions } from '@/lib/api';
import { dryRunPolicies, getPolicies, putPolicies, validatePolicies } from '@/lib/collab-api';

const VALIDATE_DELAY_MS = 400;

/**
 * The org's policies as YAML: validated as you type (errors inline with their line and column), saved with
 * optimistic concurrency, and tried against recent recorded sessions with a dry run before saving.
 */
export function PoliciesEditor() {
  const [yaml, setYaml] = useState('');
  const [version, setVersion] = useState<number | undefined>(undefined);
  const [issues, setIssues] = useState<PolicyIssue[]>([]);
  const [error, setError] = useState<string | null>(null);
  const [saved, setSaved] = useState<string | null>(null);
  const [report, setReport] = useState<DryRunReport | null>(null);
  const [isLoaded, setIsLoaded] = useState(false);
  const seq = useRef(0);

  useEffect(() => {
    getPolicies()
      .then((p) => {
        setYaml(p.yaml);
        setVersion(p.version);
        setIsLoaded(true);
      })
      .catch((err: unknown) => setError(describeError(err)));
  }, []);

  useEffect(() => {
    if (!isLoaded) return;
    const mine = ++seq.current;
    const t = setTimeout(() => {
      validatePolicies(yaml)
        .then((r) => {
          if (mine === seq.current) setIssues(r.issues);
        })
        .catch((err: unknown) => setError(describeError(err)));
    }, VALIDATE_DELAY_MS);
    return () => clearTimeout(t);
  }, [yaml, isLoaded]);

  const save = async () => {
    setError(null);
    try {
      const p = await putPolicies(yaml, version);
      setVersion(p.version);
      setSaved(`Saved: ${p.count} ${p.count === 1 ? 'policy' : 'policies'}, version ${p.version}.`);
    } catch (err) {
      setError(describeError(err));
    }
  };

  const dryRun = async () => {
    setError(null);
    try {
      const page = await listSessions({ limit: 20 });
      const ids = page.sessions.map((s) => s.id);
      if (ids.length === 0) {
        setError('There are no recorded sessions to try the policies on.');
        return;
      }
      setReport(await dryRunPolicies(yaml, ids));
    } catch (err) {
      setError(describeError(err));
    }
  };

  return (
    <section aria-label="Org policies" data-testid="policies-editor">
      {error && (
        <p className="banner banner-error" role="alert">
          {error}
        </p>
      )}
      {saved && (
        <p className="muted small" role="status">
          {saved}
        </p>
      )}
      <label>
        <span className="sr-only">Org policies (YAML)</span>
        <textarea
          className="policy-editor"
          value={yaml}
          onChange={(e) => {
            setYaml(e.target.value);
            setSaved(null);
          }}
          spellCheck={false}
          disabled={!isLoaded}
          aria-invalid={issues.length > 0}
          aria-describedby="policy-issues"
          data-testid="policy-yaml"
        />
      </label>
      <ul id="policy-issues" className="issues" aria-live="polite" data-testid="policy-issues">
        {issues.map((i, k) => (
          <li key={k} className="banner banner-error" data-testid="policy-issue">
            line {i.line}, col {i.col}
            {i.path ? ` (${i.path})` : ''}: {i.message}
          </li>
        ))}
      </ul>
      <div className="form-row">
        <button
          type="button"
          onClick={() => void save()}
          disabled={!isLoaded || issues.length > 0}
          data-testid="policy-save"
        >
          Save
        </button>
        <button
          type="button"
          className="secondary"
          onClick={() => void dryRun()}
          disabled={!isLoaded || issues.length > 0}
          data-testid="policy-dry-run"
        >
          Dry run on recent sessions
        </button>
      </div>
      {report && (
        <table className="admin-table" data-testid="dry-run-report">
          <caption className="muted small">
            {report.policies} policies over {report.sessions.length} sessions
          </caption>
          <thead>
            <tr>
              <th>Session</th>
              <th>Actions</th>
              <th>Allow</th>
              <th>Ask</th>
              <th>Deny</th>
            </tr>
          </thead>
          <tbody>
            {report.sessions.map((s) => (
              <tr key={s.sessionId} data-testid="dry-run-session">
                <td>{s.title || s.sessionId}</td>
                <td>{s.actions}</td>
                <td>{s.counts.allow}</td>
                <td>{s.counts.ask}</td>
                <td>{s.counts.deny}</td>
              </tr>
            ))}
          </tbody>
        </table>
      )}
    </section>
  );
}
