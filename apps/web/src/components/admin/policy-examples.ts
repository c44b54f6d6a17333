/** Example org policy sets, one click away in the policy editor. Each is a complete, valid set. */
export interface PolicyExample {
  id: string;
  title: string;
  description: string;
  yaml: string;
}

export const POLICY_EXAMPLES: PolicyExample[] = [
  {
    id: 'ask-shell',
    title: 'Ask before shell',
    description: 'A person approves every shell command before it runs.',
    yaml: `# A person approves every shell command before it runs.
- type: ask_on_tools
  name: ask-before-shell
  tools: [shell]
`,
  },
  {
    id: 'deny-network',
    title: 'Deny network',
    description: 'No network from the sandbox, and no download or remote-login commands.',
    yaml: `# No network from the sandbox (the model API is still reached through the metering proxy).
- type: egress
  name: no-network
  deny: ["*"]
# And no commands whose purpose is to reach the network.
- type: deny_commands
  name: no-downloads
  patterns: ["curl", "wget", "ssh", "scp"]
`,
  },
  {
    id: 'guard-destructive',
    title: 'Guard destructive commands',
    description: 'Deny force pushes and recursive deletes; ask before a push that follows a new package.',
    yaml: `- type: deny_commands
  name: no-destructive
  patterns: ["rm -rf", "git push --force", "git reset --hard"]
- type: after
  name: push-after-install
  if_earlier: { tool: shell, match: "npm (i|install|add) ", label: installed_package }
  then: { tool: shell, match: "git push" }
  reason: a new npm package was installed earlier in this session
`,
  },
  {
    id: 'budget',
    title: 'Spending limits',
    description: 'Ask at $5 and $20 per session, stop at $50, and ask past 500 tool calls.',
    yaml: `- type: cost_budget
  name: session-budget
  ask_at: [5, 20]
  max: 50
- type: max_tool_calls
  name: tool-call-limit
  max: 500
  verdict: ask
`,
  },
];
