'use client';

import type { ExampleAgent, LibraryAgent } from '@yoke/protocol';
import { Check } from 'lucide-react';
import { useState } from 'react';
import { ApiError } from '@/lib/api';
import { saveAgent, saveAgentVersion } from '@/lib/agents-api';
import { type AgentChoice, choiceValue, parseChoice } from './new-session-form';
import { ERROR_TEXT, FIELD, HINT, TEXT_AREA } from './form-styles';
import type { AgentCheck } from './use-agent-check';

type Props = {
  saved: LibraryAgent[];
  examples: ExampleAgent[];
  choice: AgentChoice;
  /** The saved agent chosen, if the choice is one. */
  current: LibraryAgent | null;
  yaml: string;
  check: AgentCheck;
  onChoice: (c: AgentChoice) => void;
  onYaml: (yaml: string) => void;
  /** A save to the library succeeded: the dialog reloads the library and picks this agent. */
  onSaved: (agent: LibraryAgent) => void;
};

/**
 * Which agent the session runs: a saved agent of the org's library, an example, or pasted YAML, in an editor checked
 * as you type (problems listed beside it, by line). Pasted or edited YAML can be saved to the library, or as a new
 * version of the saved agent it came from.
 */
export function AgentPicker({ saved, examples, choice, current, yaml, check, onChoice, onYaml, onSaved }: Props) {
  const [isSaving, setIsSaving] = useState(false);
  const [saveError, setSaveError] = useState<string | null>(null);
  const isEdited = current !== null && current.yaml !== yaml;

  const save = async () => {
    setIsSaving(true);
    setSaveError(null);
    try {
      onSaved(current ? await saveAgentVersion(current.id, yaml, current.version) : await saveAgent(yaml));
    } catch (err) {
      setSaveError(err instanceof ApiError ? err.message : 'The agent could not be saved.');
    } finally {
      setIsSaving(false);
    }
  };

  const canSave = check.status === 'ok' && !isSaving && (current === null || isEdited);

  return (
    <fieldset className="mb-3 rounded-sm border border-border px-3 py-[9px]">
      <legend className="px-1 font-semibold">Agent</legend>
      <label className={FIELD}>
        <span>Start from</span>
        <select
          value={choiceValue(choice)}
          onChange={(e) => onChoice(parseChoice(e.target.value))}
          data-testid="ns-agent"
          autoFocus
        >
          {saved.length > 0 && (
            <optgroup label="Saved agents">
              {saved.map((a) => (
                <option key={a.id} value={choiceValue({ kind: 'saved', id: a.id })}>
                  {a.name} · v{a.version}
                </option>
              ))}
            </optgroup>
          )}
          {examples.length > 0 && (
            <optgroup label="Examples">
              {examples.map((x) => (
                <option key={x.file} value={choiceValue({ kind: 'example', file: x.file })}>
                  {x.name} (example)
                </option>
              ))}
            </optgroup>
          )}
          <option value="paste">Paste YAML…</option>
        </select>
      </label>

      <label className={FIELD} htmlFor="ns-yaml">
        <span>
          Agent YAML
          {isEdited && <em className={HINT}> — edited: the session runs this text</em>}
        </span>
      </label>
      <div className="grid grid-cols-1 items-start gap-3 sm:grid-cols-[minmax(0,3fr)_minmax(0,2fr)]">
        <textarea
          id="ns-yaml"
          className={`${TEXT_AREA} font-mono text-[0.85rem] leading-[1.45] [tab-size:2] aria-[invalid=true]:border-danger`}
          value={yaml}
          onChange={(e) => onYaml(e.target.value)}
          spellCheck={false}
          rows={10}
          placeholder={'name: reviewer\nprompt: You review diffs.\nharness: claude-code'}
          aria-invalid={check.status === 'invalid'}
          aria-describedby="ns-yaml-status"
          data-testid="ns-yaml"
        />
        <div id="ns-yaml-status" className="min-w-0 text-[0.85rem] [&_p]:m-0" aria-live="polite">
          <CheckStatus check={check} />
        </div>
      </div>

      <div className="mt-1.5 flex flex-wrap items-center gap-3">
        <button
          type="button"
          className="secondary"
          disabled={!canSave}
          onClick={() => void save()}
          data-testid={current ? 'ns-save-version' : 'ns-save-agent'}
        >
          {current ? `Save as version ${current.version + 1}` : 'Save to library'}
        </button>
        {saveError && (
          <span className={ERROR_TEXT} role="alert" data-testid="ns-save-error">
            {saveError}
          </span>
        )}
      </div>
    </fieldset>
  );
}

function CheckStatus({ check }: { check: AgentCheck }) {
  switch (check.status) {
    case 'empty':
      return <p className="muted">Paste an agent, or pick one above.</p>;
    case 'checking':
      return <p className="muted">Checking…</p>;
    case 'ok':
      return (
        <p className="text-ok" data-testid="ns-agent-ok">
          <Check aria-hidden="true" className="inline size-4 align-[-3px]" /> Valid: <strong>{check.agent.name}</strong>{' '}
          on {check.agent.harness}
          {check.agent.model ? ` · ${check.agent.model}` : ''}
        </p>
      );
    case 'error':
      return (
        <p className={ERROR_TEXT} role="alert">
          {check.message}
        </p>
      );
    case 'invalid':
      return (
        <ul
          className="m-0 list-none rounded-sm bg-danger-bg p-2 text-fg wrap-anywhere [&>li+li]:mt-1.5"
          data-testid="ns-yaml-issues"
          aria-label="Problems in the agent YAML"
        >
          {check.issues.length === 0 && <li>{check.message}</li>}
          {check.issues.map((i, n) => (
            <li key={n}>
              <span className="font-mono font-semibold text-danger">
                Line {i.line}:{i.column}
              </span>{' '}
              {i.path && <code>{i.path}</code>} {i.message}
            </li>
          ))}
        </ul>
      );
  }
}
