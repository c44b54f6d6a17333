import { openThreadsFor } from './comment-counts';

describe('openThreadsFor', () => {
  const byPath = new Map([
    ['src/a.ts', 2],
    ['src/lib/b.ts', 1],
    ['srcx/c.ts', 5],
    ['README.md', 1],
  ]);

  it("counts a folder's threads at any depth below it, and no sibling's that shares its prefix", () => {
    expect(openThreadsFor({ path: 'src', kind: 'dir' }, byPath)).toBe(3);
    expect(openThreadsFor({ path: 'src/lib', kind: 'dir' }, byPath)).toBe(1);
    expect(openThreadsFor({ path: 'docs', kind: 'dir' }, byPath)).toBe(0);
  });

  it("counts a file's own threads", () => {
    expect(openThreadsFor({ path: 'README.md', kind: 'file' }, byPath)).toBe(1);
    expect(openThreadsFor({ path: 'src', kind: 'file' }, byPath)).toBe(0);
  });
});
