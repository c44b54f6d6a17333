import { Fragment, memo, useMemo } from 'react';
import { Decoration, Diff, Hunk, parseDiff, type FileData } from 'react-diff-view';
import { DiffBlock } from '@/components/session/diff-block';

/** The note a harness leaves where it cut a long diff short; the parser would drop it silently. */
const CUT_SHORT = /^\[\.\.\. truncated \d+ characters \.\.\.\]$/m;

/** The files of a unified diff that have hunks to show, or null when there is nothing the viewer can read. */
function parse(diff: string): FileData[] | null {
  // A hunk without file headers is still a diff: give it headers so the parser takes it.
  const text = diff.startsWith('@@') ? `--- a/file\n+++ b/file\n${diff}` : diff;
  try {
    const files = parseDiff(text).filter((f) => f.hunks.length > 0);
    return files.length > 0 ? files : null;
  } catch {
    return null;
  }
}

/**
 * A file change as a diff viewer: one column of lines with the old and new line numbers beside them, added and
 * removed lines marked, each hunk led by its "@@" header. Text the viewer can't read as a unified diff (a whole new
 * file's content, an empty diff) is shown as it is.
 */
export default memo(function DiffView({ diff, path }: { diff: string; path: string }) {
  const files = useMemo(() => parse(diff), [diff]);
  const cutShort = useMemo(() => CUT_SHORT.exec(diff)?.[0], [diff]);
  if (!files) return <DiffBlock diff={diff} />;
  return (
    // Long lines scroll sideways in here, so keyboard users need to be able to reach it.
    <div
      className="diff-view"
      data-testid="diff"
      data-view="table"
      role="group"
      aria-label={`Diff of ${path}`}
      tabIndex={0}
    >
      {files.map((file, i) => (
        <Diff key={i} viewType="unified" diffType={file.type} hunks={file.hunks}>
          {(hunks) =>
            hunks.map((hunk, j) => (
              <Fragment key={j}>
                <Decoration className="diff-view-hunk">{hunk.content}</Decoration>
                <Hunk hunk={hunk} />
              </Fragment>
            ))
          }
        </Diff>
      ))}
      {cutShort && <p className="diff-view-note">{cutShort}</p>}
    </div>
  );
});
