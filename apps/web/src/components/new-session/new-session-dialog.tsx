'use client';

import type { ExampleAgent, HarnessName, LibraryAgent, RunnerView } from '@yoke/protocol';
import { useRouter } from 'next/navigation';
import { Dialog } from 'radix-ui';
import { useCallback, useEffect, useMemo, useState } from 'react';
import { sessionHref } from '@/components/session-list/session-row';
import { DialogPanel } from '@/components/ui/dialog';
import { ApiError } from '@/lib/api';
import { listExampleAgents, listLibraryAgents, startSession } from '@/lib/agents-api';
import { listRunners } from '@/lib/collab-api';
import { newIdempotencyKey } from '@/lib/ids';
import { AgentPicker } from './agent-picker';
import {
  type AgentChoice,
  defaultChoice,
  defaultRunner,
  HARNESSES,
  isPristineSaved,
  sessionBody,
} from './new-session-form';
import { ERROR_TEXT, FIELD, HINT, TEXT_AREA } from './form-styles';
import { useAgentCheck } from './use-agent-check';

type Catalog = { saved: LibraryAgent[]; examples: ExampleAgent[]; runners: RunnerView[] };

/**
 * Starts a session from the browser. A Radix modal dialog (Esc or Cancel closes it; focus stays inside while open and
 * returns to what opened it) that opens each time `request` grows (NewSessionLauncher counts `yoke:new-session`
 * events): pick an agent, harness, model, runner and workspace, write the first prompt, and land on the new session as
 * it starts streaming.
 */
export function NewSessionDialog({ request }: { request: number }) {
  const router = useRouter();
  const [isOpen, setIsOpen] = useState(false);
  const [catalog, setCatalog] = useState<Catalog | null>(null);
  const [loadError, setLoadError] = useState<string | null>(null);
  const [choice, setChoice] = useState<AgentChoice>({ kind: 'paste' });
  const [yaml, setYaml] = useState('');
  const [harness, setHarness] = useState<HarnessName | ''>('');
  const [model, setModel] = useState('');
  const [runnerId, setRunnerId] = useState('');
  const [workspace, setWorkspace] = useState('');
  const [prompt, setPrompt] = useState('');
  const [idempotencyKey, setIdempotencyKey] = useState('');
  const [isBusy, setIsBusy] = useState(false);
  const [submitError, setSubmitError] = useState<string | null>(null);

  const saved = useMemo(
    () => (choice.kind === 'saved' ? (catalog?.saved.find((a) => a.id === choice.id) ?? null) : null),
    [catalog, choice],
  );
  const check = useAgentCheck(yaml, saved && isPristineSaved({ saved, yaml }) ? saved : null);

  const pick = useCallback((c: AgentChoice, cat: Catalog) => {
    setChoice(c);
    if (c.kind === 'saved') setYaml(cat.saved.find((a) => a.id === c.id)?.yaml ?? '');
    else if (c.kind === 'example') setYaml(cat.examples.find((x) => x.file === c.file)?.yaml ?? '');
    else setYaml('');
  }, []);

  const load = useCallback(
    async (select?: LibraryAgent) => {
      setLoadError(null);
      try {
        const [savedAgents, examples, runners] = await Promise.all([
          listLibraryAgents(),
          listExampleAgents(),
          listRunners(),
        ]);
        const cat = { saved: savedAgents, examples, runners };
        setCatalog(cat);
        setRunnerId((id) => (runners.some((r) => r.id === id && r.online) ? id : defaultRunner(runners)));
        if (select) pick({ kind: 'saved', id: select.id }, cat);
        else pick(defaultChoice(savedAgents, examples), cat);
      } catch (err) {
        setLoadError(err instanceof ApiError ? err.message : 'Agents and runners could not be loaded.');
      }
    },
    [pick],
  );

  useEffect(() => {
    // Fresh lists each time: nothing typed is overwritten by a load finishing late.
    setCatalog(null);
    setSubmitError(null);
    setPrompt('');
    setIdempotencyKey(newIdempotencyKey());
    setIsOpen(true);
    void load();
  }, [request, load]);

  const setOpen = (isNowOpen: boolean) => {
    setIsOpen(isNowOpen);
    if (!isNowOpen) setIsBusy(false);
  };

  const runnersOnline = catalog?.runners.some((r) => r.online) ?? false;
  const canSubmit = check.status === 'ok' && runnerId !== '' && prompt.trim() !== '' && !isBusy;

  const submit = async () => {
    if (!canSubmit) return;
    setIsBusy(true);
    setSubmitError(null);
    try {
      const session = await startSession(
        sessionBody({ choice, saved, yaml, harness, model, runnerId, workspace, prompt, idempotencyKey }),
      );
      setOpen(false);
      router.push(sessionHref(session.id));
    } catch (err) {
      setSubmitError(err instanceof ApiError ? err.message : 'The session could not be started.');
      setIsBusy(false);
    }
  };

  const agentModel = check.status === 'ok' ? check.agent.model : null;
  const agentHarness = check.status === 'ok' ? check.agent.harness : null;

  return (
    <Dialog.Root open={isOpen} onOpenChange={setOpen}>
      <DialogPanel
        title="New session"
        headerAction={
          <Dialog.Close className="secondary" data-testid="ns-cancel">
            Cancel
          </Dialog.Close>
        }
        className="w-[min(760px,calc(100vw-24px))]"
        data-testid="new-session-dialog"
      >
        <form
          onSubmit={(e) => {
            e.preventDefault();
            void submit();
          }}
        >
          {loadError && (
            <p className="banner banner-error" role="alert">
              {loadError}
            </p>
          )}
          {!catalog && !loadError && <p className="muted">Loading agents and runners…</p>}
          {catalog && (
            <>
              <AgentPicker
                saved={catalog.saved}
                examples={catalog.examples}
                choice={choice}
                current={saved}
                yaml={yaml}
                check={check}
                onChoice={(c) => pick(c, catalog)}
                onYaml={setYaml}
                onSaved={(agent) => void load(agent)}
              />
              <div className="grid grid-cols-1 gap-x-3 sm:grid-cols-2">
                <label className={FIELD}>
                  <span>Harness</span>
                  <select
                    value={harness}
                    onChange={(e) => setHarness(e.target.value as HarnessName | '')}
                    data-testid="ns-harness"
                  >
                    <option value="">{agentHarness ? `The agent's (${agentHarness})` : "The agent's"}</option>
                    {HARNESSES.map((h) => (
                      <option key={h} value={h}>
                        {h}
                      </option>
                    ))}
                  </select>
                </label>
                <label className={FIELD}>
                  <span>Model</span>
                  <input
                    value={model}
                    onChange={(e) => setModel(e.target.value)}
                    placeholder={agentModel ?? "The harness's default"}
                    data-testid="ns-model"
                  />
                </label>
                <label className={FIELD}>
                  <span>Runner</span>
                  <select value={runnerId} onChange={(e) => setRunnerId(e.target.value)} data-testid="ns-runner">
                    {!runnersOnline && <option value="">No runner online</option>}
                    {catalog.runners.map((r) => (
                      <option key={r.id} value={r.id} disabled={!r.online}>
                        {r.name} · {r.online ? 'online' : 'offline'}
                      </option>
                    ))}
                  </select>
                </label>
                <label className={FIELD}>
                  <span>Workspace</span>
                  <input
                    value={workspace}
                    onChange={(e) => setWorkspace(e.target.value)}
                    placeholder="/home/you/project (the runner's default if empty)"
                    data-testid="ns-workspace"
                  />
                </label>
              </div>
              {!runnersOnline && (
                <p className={HINT}>
                  No runner of this org is online. Start one with <code>yoke runner start</code>.
                </p>
              )}
              <label className={FIELD}>
                <span>First prompt</span>
                <textarea
                  className={TEXT_AREA}
                  value={prompt}
                  onChange={(e) => setPrompt(e.target.value)}
                  rows={3}
                  placeholder="What should the agent do?"
                  onKeyDown={(e) => {
                    if (e.key === 'Enter' && (e.metaKey || e.ctrlKey)) {
                      e.preventDefault();
                      void submit();
                    }
                  }}
                  data-testid="ns-prompt"
                />
              </label>
              {submitError && (
                <p className={`mt-1.5 mb-0 ${ERROR_TEXT}`} role="alert" data-testid="ns-error">
                  {submitError}
                </p>
              )}
              <div className="mt-3 flex justify-end">
                <button type="submit" disabled={!canSubmit} data-testid="ns-submit">
                  {isBusy ? 'Starting…' : 'Start session'}
                </button>
              </div>
            </>
          )}
        </form>
      </DialogPanel>
    </Dialog.Root>
  );
}
