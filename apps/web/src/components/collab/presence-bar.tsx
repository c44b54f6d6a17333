import type { PresenceViewer } from '@yoke/protocol';
import { Avatar } from '@/components/collab/avatar';

/** Who is watching now (one avatar per person) and which drivers are typing. */
export function PresenceBar({ viewers, typingNames }: { viewers: PresenceViewer[]; typingNames: string[] }) {
  return (
    <div className="presence" data-testid="presence">
      <span className="sr-only">Watching now:</span>
      <ul className="presence-list">
        {viewers.map((v) => (
          <li key={v.actor.id} data-testid="presence-viewer" data-name={v.actor.name} data-role={v.role}>
            <Avatar
              id={v.actor.id}
              name={v.actor.name}
              title={`${v.actor.name} (${v.role}${v.isGuest ? ', guest' : ''})`}
            />
          </li>
        ))}
      </ul>
      {typingNames.length > 0 && (
        <span className="muted small" data-testid="typing" aria-live="polite">
          {typingNames.join(', ')} {typingNames.length === 1 ? 'is' : 'are'} typing…
        </span>
      )}
    </div>
  );
}
