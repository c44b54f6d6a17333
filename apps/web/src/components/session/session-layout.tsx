'use client';

import { useSyncExternalStore, type ReactNode } from 'react';
import { Group, Panel, Separator, useDefaultLayout } from 'react-resizable-panels';

/** From this width the files panel sits beside the conversation (the same breakpoint as conversation.css). */
const SIDE_BY_SIDE = '(min-width: 1100px)';
/** The reading column never gets narrower than this, however wide the files panel is dragged. */
const MIN_CONVERSATION_PX = 520;
/** The files panel never gets narrower than this: a path and its comment count stay legible. */
const MIN_FILES_PX = 280;
/**
 * The files panel's share of the width before the user moves the separator, and again after a double-click on it
 * (400 px in a 1440 px window). A share rather than pixels, so a page opened in a narrow window still starts from it
 * once the window is widened.
 */
const DEFAULT_FILES = '33%';
/** Panels scroll with the page, not inside themselves: the files panel stays sticky and the composer at the bottom. */
const FLOWING = { overflow: 'visible' } as const;

function subscribeToWidth(onChange: () => void): () => void {
  const query = window.matchMedia(SIDE_BY_SIDE);
  query.addEventListener('change', onChange);
  return () => query.removeEventListener('change', onChange);
}

/** Whether the window is wide enough for the two columns (read on each render; never server-rendered). */
function useIsSideBySide(): boolean {
  return useSyncExternalStore(
    subscribeToWidth,
    () => window.matchMedia(SIDE_BY_SIDE).matches,
    () => false,
  );
}

/**
 * The conversation and the files panel. From 1100 px they sit side by side with a separator between them that the
 * user drags, or moves with the arrow keys, to give the files more or less room; the split is kept in localStorage
 * for the next visit. Narrower, the panel goes below the conversation and there is nothing to drag. The same elements
 * are rendered either way (only CSS stacks them), so crossing the breakpoint keeps a draft and an open file.
 */
export function SessionLayout({ conversation, files }: { conversation: ReactNode; files: ReactNode }) {
  const isSideBySide = useIsSideBySide();
  // Every settled split is kept (a drag, the arrow keys, a double-click back to the default), as the share of the width
  // the user asked for: a narrower window squeezes it to fit without losing it.
  const { defaultLayout, onLayoutChanged } = useDefaultLayout({ id: 'yoke-session-layout' });

  return (
    <Group
      className="session-layout"
      orientation="horizontal"
      disabled={!isSideBySide}
      defaultLayout={defaultLayout}
      onLayoutChanged={onLayoutChanged}
      style={FLOWING}
      data-testid="session-layout"
    >
      <Panel
        id="conversation"
        className="session-main-panel"
        minSize={isSideBySide ? MIN_CONVERSATION_PX : undefined}
        style={FLOWING}
      >
        {conversation}
      </Panel>
      {isSideBySide && (
        <Separator className="session-separator" aria-label="Resize the files panel" data-testid="layout-separator" />
      )}
      <Panel
        id="files"
        className="session-side-panel"
        defaultSize={DEFAULT_FILES}
        minSize={isSideBySide ? MIN_FILES_PX : undefined}
        style={FLOWING}
        data-testid="files-panel-column"
      >
        {files}
      </Panel>
    </Group>
  );
}
