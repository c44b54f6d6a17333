/** Where the "g" shortcuts go, shared by the key handler, the command palette and the help sheet. */
export const PLACES = [
  { key: 's', label: 'Sessions', href: '/' },
  { key: 'a', label: 'Approvals', href: '/approvals/' },
  { key: 'u', label: 'Usage', href: '/usage/' },
  { key: 'l', label: 'Audit log', href: '/audit/' },
  { key: 'm', label: 'Admin', href: '/admin/' },
  { key: 'p', label: 'Admin: policies', href: '/admin/?tab=policies' },
] as const;

export type Place = (typeof PLACES)[number];

/** Every keyboard shortcut, as the help sheet lists them. `keys` are pressed in sequence. */
export const SHORTCUTS: { keys: string[]; description: string }[] = [
  { keys: ['Ctrl', 'K'], description: 'Open the command palette (⌘ K on a Mac)' },
  { keys: ['?'], description: 'Show these keyboard shortcuts' },
  { keys: ['n'], description: 'New session' },
  ...PLACES.map((p) => ({ keys: ['g', p.key], description: `Go to ${p.label}` })),
  { keys: ['j'], description: 'Approvals: the next approval (or ↓)' },
  { keys: ['k'], description: 'Approvals: the previous approval (or ↑)' },
  { keys: ['a'], description: 'Approve (in Approvals, the selected one; in a session, the oldest waiting)' },
  { keys: ['s'], description: 'Always allow in this session, where the approval offers it' },
  { keys: ['d'], description: 'Deny the approval' },
  { keys: ['Enter'], description: "Approvals: open the selected approval's session" },
  { keys: ['Esc'], description: 'Close a dialog, the palette or this sheet' },
];

/** Whether a key press is meant for a field being typed in, so single-key shortcuts must leave it alone. */
export function isTypingTarget(target: EventTarget | null): boolean {
  if (!(target instanceof HTMLElement)) return false;
  if (target.isContentEditable) return true;
  const tag = target.tagName;
  if (tag === 'TEXTAREA' || tag === 'SELECT') return true;
  if (tag !== 'INPUT') return false;
  const type = (target as HTMLInputElement).type;
  return !['checkbox', 'radio', 'button', 'submit', 'reset', 'range', 'color', 'file'].includes(type);
}

/** The event another part of the app listens to in order to open its New session dialog. */
export const NEW_SESSION_EVENT = 'yoke:new-session';

export function requestNewSession(): void {
  window.dispatchEvent(new CustomEvent(NEW_SESSION_EVENT));
}
