import { describeDiffStats, diffStats } from '@/components/session/diff-stats';

describe('diffStats', () => {
  it('counts added and removed lines across hunks, not the file headers', () => {
    const diff = [
      '--- a/src/a.ts',
      '+++ b/src/a.ts',
      '@@ -1,3 +1,3 @@',
      ' one',
      '-two',
      '+TWO',
      ' three',
      '@@ -10,2 +10,4 @@',
      ' ten',
      '+ten and a half',
      '+ten and three quarters',
      ' eleven',
      '',
    ].join('\n');
    expect(diffStats(diff)).toEqual({ added: 3, removed: 1 });
  });

  it('counts a removed "-- comment" and an added "++i" line as changes, not as headers', () => {
    const diff = '--- a/q.sql\n+++ b/q.sql\n@@ -1,2 +1,2 @@\n--- old note\n+++i;\n select 1;\n';
    expect(diffStats(diff)).toEqual({ added: 1, removed: 1 });
  });

  it('counts each file of a multi-file diff, and a hunk header without counts up to the next file', () => {
    const diff = [
      'diff --git a/a b/a',
      '--- a/a',
      '+++ b/a',
      '@@ -1 +1,2 @@',
      ' keep',
      '+added',
      '--- a/b',
      '+++ b/b',
      '@@',
      '-gone',
      '-also gone',
      '\\ No newline at end of file',
      'diff --git a/c b/c',
      '--- /dev/null',
      '+++ b/c',
      '@@ -0,0 +1 @@',
      '+new',
    ].join('\n');
    expect(diffStats(diff)).toEqual({ added: 2, removed: 2 });
  });

  it('stops at a note that the diff was cut short', () => {
    const diff = '--- a/a\n+++ b/a\n@@ -1,40 +1,40 @@\n-x\n+y\n\n[... truncated 900 characters ...]\n';
    expect(diffStats(diff)).toEqual({ added: 1, removed: 1 });
  });

  it('has nothing to count without a hunk: a whole file, a bare delete, nothing', () => {
    expect(diffStats('+export const a = 1;\n-- not a diff\n')).toBeNull();
    expect(diffStats('--- a/x\n+++ /dev/null\n')).toBeNull();
    expect(diffStats('')).toBeNull();
  });
});

describe('describeDiffStats', () => {
  it('reads as a sentence', () => {
    expect(describeDiffStats({ added: 12, removed: 3 })).toBe('12 lines added, 3 removed');
    expect(describeDiffStats({ added: 1, removed: 0 })).toBe('1 line added, 0 removed');
  });
});
