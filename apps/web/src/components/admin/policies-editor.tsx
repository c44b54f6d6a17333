'use client';

import type { DryRunReport, PolicyIssue } from '@yoke/protocol';
import { useCallback, useEffect, useRef, useState } from 'react';
import { describeError, listSessions } from '@/lib/api';
import { dryRunPolicies, getPolicies, putPolicies, validatePolicies } from '@/lib/collab-api';
import { useToast } from '@/components/shell/toast';
import { PolicyCodeEditor } from './policy-code-editor';
import { PolicyDryRun } from './policy-dry-run';
import { POLICY_EXAMPLES } from './policy-examples';

const VALIDATE_DELAY_MS = 400;

/**
 * The org's policies as YAML in a code editor: it opens on the current set, validates as you type (errors inline at
 * their line), offers examples, saves with optimistic concurrency, and tries the set on recent sessions (dry run).
 */
export function PoliciesEditor() {
  const [yaml, setYaml] = useState('');
  const [savedYaml, setSavedYaml] = useState('');
  const [version, setVersion] = useState<number | undefined>(undefined);
  const [issues, setIssues] = useState<PolicyIssue[]>([]);
  const [error, setError] = useState<string | null>(null);
  const [saved, setSaved] = useState<string | null>(null);
  const [report, setReport] = useState<DryRunReport | null>(null);
  const [isLoaded, setIsLoaded] = useState(false);
  const [isBusy, setIsBusy] = useState(false);
  const seq = useRef(0);
  const toast = useToast();

  useEffect(() => {
    getPolicies()
      .then((p) => {
        setYaml(p.yaml);
        setSavedYaml(p.yaml);
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

  const edit = useCallback((text: string) => {
    setYaml(text);
    setSaved(null);
  }, []);

  const save = async () => {
    setError(null);
    setIsBusy(true);
    try {
      const p = await putPolicies(yaml, version);
      setVersion(p.version);
      setSavedYaml(yaml);
      const note = `Saved: ${p.count} ${p.count === 1 ? 'policy' : 'policies'}, version ${p.version}.`;
      setSaved(note);
      toast({ kind: 'success', text: `Org policies saved (${p.count}, version ${p.version}).` });
    } catch (err) {
      setError(describeError(err));
      toast({ kind: 'error', text: `The policies were not saved: ${describeError(err)}` });
    } finally {
      setIsBusy(false);
    }
  };

  const dryRun = async () => {
    setError(null);
    setIsBusy(true);
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
    } finally {
      setIsBusy(false);
    }
  };

  const isDirty = yaml !== savedYaml;
  const isBlocked = !isLoaded || isBusy || issues.length > 0;

  return (
    <section aria-label="Org policies" className="policies-editor" data-testid="policies-editor">
      {error && (
        <p className="banner banner-error" role="alert">
          {error}
        </p>
      )}
      <div className="my-1.5 flex flex-wrap items-center gap-1.5" role="group" aria-label="Examples">
        <span className="muted small">Start from an example:</span>
        {POLICY_EXAMPLES.map((x) => (
          <button
            key={x.id}
            type="button"
            className="secondary small"
            title={x.description}
            disabled={!isLoaded}
            onClick={() => edit(x.yaml)}
            data-testid="policy-example"
            data-example={x.id}
          >
            {x.title}
          </button>
        ))}
      </div>
      {isLoaded ? (
        <PolicyCodeEditor value={yaml} issues={issues} onChange={edit} describedBy="policy-issues" />
      ) : (
        !error && <p className="muted small">Loading the org&apos;s policies…</p>
      )}
      <ul id="policy-issues" className="font-mono text-[0.85rem]" aria-live="polite" data-testid="policy-issues">
        {issues.map((i, k) => (
          <li key={k} className="banner banner-error" data-testid="policy-issue" data-line={i.line}>
            line {i.line}, col {i.col}
            {i.path ? ` (${i.path})` : ''}: {i.message}
          </li>
        ))}
      </ul>
      <div className="form-row">
        <button type="button" onClick={() => void save()} disabled={isBlocked || !isDirty} data-testid="policy-save">
          Save
        </button>
        <button
          type="button"
          className="secondary"
          onClick={() => edit(savedYaml)}
          disabled={!isLoaded || !isDirty}
          data-testid="policy-revert"
        >
          Revert to saved
        </button>
        <button
          type="button"
          className="secondary"
          onClick={() => void dryRun()}
          disabled={isBlocked}
          data-testid="policy-dry-run"
        >
          Dry run on recent sessions
        </button>
        <span className="muted small" role="status">
          {saved ?? (isDirty ? 'Unsaved changes.' : version ? `Version ${version}.` : '')}
        </span>
      </div>
      {report && <PolicyDryRun report={report} />}
    </section>
  );
}
