'use client';

import { useWindowVirtualizer } from '@tanstack/react-virtual';
import { useEffect, useLayoutEffect, useRef, useState } from 'react';
import { RowView } from '@/components/session/item-view';
import type { Row } from '@/lib/conversation';

/** Gap between rows, as `.timeline`'s flex gap (rows here are positioned, so the list has no flex layout). */
const ROW_GAP_PX = 10;
/** A first guess at a row's height, replaced by its measured height once it is drawn. */
const ESTIMATED_ROW_PX = 72;
/** Rows drawn beyond the window at each end, so a fast scroll does not show blank space. */
const OVERSCAN = 12;
/** How long the row an `#item-N` link led to stays marked, once drawn. */
const HIGHLIGHT_MS = 4000;
/** How long to wait for that row to be drawn (history still loading, the list still measuring) before giving up. */
const FIND_MS = 10_000;
/** The mark: the info tint and an accent outline (Tailwind utilities, which win over the `.item` component rules). */
const HIGHLIGHT = ['rounded-md', 'bg-info-bg', 'outline-2', 'outline-offset-2', 'outline-accent'];

/**
 * A long conversation's rows, only those near the window drawn (TanStack Virtual, measuring each row as it is drawn).
 * A link to a row that is not drawn (`#item-42`, as fork and comments give) scrolls to it. `onSize` hears the list's
 * height as rows are measured, so the view can stay pinned to the bottom.
 */
export function VirtualRows({
  rows,
  attached,
  onSize,
}: {
  rows: Row[];
  attached: Map<string, string>;
  onSize: (height: number) => void;
}) {
  const listRef = useRef<HTMLOListElement>(null);
  const [scrollMargin, setScrollMargin] = useState(0);

  useLayoutEffect(() => {
    const measure = () => {
      const el = listRef.current;
      if (el) setScrollMargin(el.getBoundingClientRect().top + window.scrollY);
    };
    measure();
    window.addEventListener('resize', measure);
    return () => window.removeEventListener('resize', measure);
  }, []);

  const virtualizer = useWindowVirtualizer<HTMLLIElement>({
    count: rows.length,
    estimateSize: () => ESTIMATED_ROW_PX,
    overscan: OVERSCAN,
    gap: ROW_GAP_PX,
    scrollMargin,
    getItemKey: (index) => rows[index].key,
  });
  const total = virtualizer.getTotalSize();

  useEffect(() => onSize(total), [total, onSize]);

  // `#item-N` names a row by its first seq; a row that is not drawn cannot be scrolled to by the browser. The
  // handler reads the rows as they are when the hash changes (more arrive as history loads and the turn goes on).
  const latest = useRef({ rows, virtualizer });
  latest.current = { rows, virtualizer };
  const hasRows = rows.length > 0;
  useEffect(() => {
    if (!hasRows) return;
    const go = () => {
      const match = /^#item-(\d+)$/.exec(window.location.hash);
      if (!match) return;
      const seq = Number(match[1]);
      const { rows: now, virtualizer: v } = latest.current;
      const index = now.findIndex((r) => r.seqs.includes(seq));
      if (index >= 0) v.scrollToIndex(index, { align: 'start' });
    };
    go();
    window.addEventListener('hashchange', go);
    return () => window.removeEventListener('hashchange', go);
  }, [hasRows]);

  return (
    <ol
      ref={listRef}
      className="timeline timeline-virtual"
      data-testid="timeline"
      data-virtual="true"
      aria-live="polite"
      aria-relevant="additions"
      style={{ height: total, position: 'relative' }}
    >
      {virtualizer.getVirtualItems().map((v) => {
        const row = rows[v.index];
        return (
          <RowView
            key={v.key}
            row={row}
            liveOutput={row.kind === 'tool' ? attached.get(row.action.callId) : undefined}
            index={v.index}
            measureRef={virtualizer.measureElement}
            offset={v.start - scrollMargin}
          />
        );
      })}
    </ol>
  );
}

/**
 * Marks the row an `#item-N` link leads to (on opening the address, or when the hash changes) for a few seconds:
 * `data-highlighted` and a tint. CSS `:target` cannot do it, as a virtual list draws the row only after the hash
 * changed, and may draw it again (a new element) as rows are measured: the mark is put on whichever element shows the
 * row while it lasts. For short sessions and long (VirtualRows) alike.
 */
export function useHashHighlight(hasRows: boolean): void {
  useEffect(() => {
    if (!hasRows) return;
    let frame = 0;
    let marked: HTMLElement | null = null;
    const unmark = () => {
      marked?.classList.remove(...HIGHLIGHT);
      marked?.removeAttribute('data-highlighted');
      marked = null;
    };
    const go = () => {
      cancelAnimationFrame(frame);
      unmark();
      const match = /^#item-(\d+)$/.exec(window.location.hash);
      if (!match) return;
      // A row answers to every seq it folds (`#item-N` may name one after the first).
      const selector = `li.item[data-seqs~="${match[1]}"]`;
      let until = performance.now() + FIND_MS;
      let isShown = false;
      const mark = (now: number) => {
        if (now >= until) {
          unmark();
          return;
        }
        const el = document.querySelector<HTMLElement>(selector);
        // React sets a row's class again when it draws the row anew: the mark goes back on.
        if (el && (el !== marked || !HIGHLIGHT.every((c) => el.classList.contains(c)))) {
          unmark();
          el.classList.add(...HIGHLIGHT);
          el.setAttribute('data-highlighted', 'true');
          marked = el;
          if (!isShown) until = now + HIGHLIGHT_MS;
          isShown = true;
        }
        frame = requestAnimationFrame(mark);
      };
      frame = requestAnimationFrame(mark);
    };
    go();
    window.addEventListener('hashchange', go);
    return () => {
      window.removeEventListener('hashchange', go);
      cancelAnimationFrame(frame);
      unmark();
    };
  }, [hasRows]);
}
